package specjson_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/specjson"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// slowDecode is what config.Parse did before Decode: encoding/json, one
// value, nothing after it.
func slowDecode(data []byte) (*specs.Spec, bool) {
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil || dec.More() {
		return nil, false
	}
	return &s, true
}

// fill sets every field reachable from v to a non-zero value (each a
// different one), except the other platforms' sections: a config that
// uses every Linux field of the spec.
func fill(t *testing.T, v reflect.Value, n *int) { fillWith(t, v, n, "é\"\\\n<") }

// zeroLeaves makes fillWith leave strings, numbers and booleans zero
// (every pointer, slice and map still made): omitempty at every field.
const zeroLeaves = "\x00zero"

// fillWith is fill with strings made of odd.
func fillWith(t *testing.T, v reflect.Value, n *int, odd string) {
	*n++
	switch v.Kind() {
	case reflect.Ptr:
		v.Set(reflect.New(v.Type().Elem()))
		fillWith(t, v.Elem(), n, odd)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			switch v.Type().Field(i).Name {
			case "Solaris", "Windows", "VM", "ZOS", "FreeBSD":
				continue
			}
			fillWith(t, v.Field(i), n, odd)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillWith(t, s.Index(0), n, odd)
		fillWith(t, s.Index(1), n, odd)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"k1", "k<2>&"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fillWith(t, e, n, odd)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.String:
		if odd != zeroLeaves {
			v.SetString("s" + strings.Repeat(odd, *n%3) + string(rune('a'+*n%26)))
		}
	case reflect.Bool:
		v.SetBool(odd != zeroLeaves)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if odd != zeroLeaves {
			v.SetInt(int64(-*n))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if odd != zeroLeaves {
			v.SetUint(uint64(*n))
		}
	default:
		t.Fatalf("fill: no value for a %s", v.Type())
	}
}

// TestFastSpecEveryField: a config with every Linux field of the spec,
// as Go writes it, is decoded by Decode (a field it does not know, as
// after a runtime-spec upgrade, fails here) exactly as encoding/json does.
func TestFastSpecEveryField(t *testing.T) {
	var s specs.Spec
	n := 0
	fill(t, reflect.ValueOf(&s).Elem(), &n)
	data, err := json.MarshalIndent(&s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := specjson.Decode(data)
	if !ok {
		t.Fatalf("Decode declined a config with every Linux field:\n%s", data)
	}
	if !reflect.DeepEqual(got, &s) {
		g, _ := json.Marshal(got)
		t.Fatalf("Decode gave\n%s\nwant\n%s", g, data)
	}
	// Compact, and HTML-escaped as json.Marshal writes <, > and &.
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		t.Fatal(err)
	}
	if got, ok := specjson.Decode(buf.Bytes()); !ok || !reflect.DeepEqual(got, &s) {
		t.Fatalf("compact form: ok %v", ok)
	}
	if !bytes.Contains(data, []byte(`\u003c`)) {
		t.Fatal("the test config has no \\u escape: it tests less than it says")
	}
}

func TestFastSpecDefault(t *testing.T) {
	for name, s := range map[string]*specs.Spec{"default": config.Default(), "rootless": config.Default()} {
		if name == "rootless" {
			config.ToRootless(s)
		}
		data, _ := json.MarshalIndent(s, "", "  ")
		got, ok := specjson.Decode(data)
		if !ok || !reflect.DeepEqual(got, s) {
			t.Errorf("%s spec: Decode ok %v, same %v", name, ok, reflect.DeepEqual(got, s))
		}
	}
}

// fastCases: inputs Decode must decline (encoding/json's result or
// error differs from a plain reading, or is not sure to be the same), and
// inputs it must accept.
var fastDeclines = []string{
	`{"ociVersion":"1.0.0","OCIVERSION":"x"}`,          // case-insensitive match
	`{"ociversion":"1.0.0"}`,                           // ditto
	`{"ociVersion":"1.0.0","unknown":1}`,               // ignored by encoding/json
	`{"process":{"cwd":"/"},"process":{"args":["a"]}}`, // merged by encoding/json
	`{"process":{"args":["a",null]}}`,                  // zero element
	`{"annotations":{"a":null}}`,                       // zero value stored
	`{"process":{"user":{"uid":1.0}}}`,                 // fraction
	`{"process":{"user":{"uid":1e3}}}`,                 // exponent
	`{"process":{"user":{"uid":4294967296}}}`,          // overflow
	`{"process":{"user":{"uid":-1}}}`,                  // negative
	`{"process":{"user":{"uid":01}}}`,                  // invalid JSON
	`{"process":{"oomScoreAdj":99999999999999999999}}`, // overflow
	`{"windows":{}}`,                                   // other platforms
	`{"vm":{}}`, `{"solaris":{}}`, `{"zos":{}}`, `{"freebsd":{}}`,
	`{"ociVersion":"1.0.0"} {}`,     // trailing data
	`{"ociVersion":"1.0.0"}x`,       // ditto
	"{\"ociVersion\":\"\xff\"}",     // invalid UTF-8
	`{"ociVersion":"\ud800"}`,       // surrogate
	`{"ociVersion":"\ud83d\ude00"}`, // pair
	"{\"ociVersion\":\"a\tb\"}",     // control character
	`{"ociVersion":"\x"}`,           // bad escape
	`{"ociVersion":1}`,              // type mismatch
	`{"process":[]}`, `{"mounts":{}}`, `{"linux":{"sysctl":[]}}`,
	`{"root":{"readonly":"true"}}`,
	`[]`, `"x"`, `null`, ``, `{`, `{"ociVersion":"1.0.0"`, `{"a"}`, `{,}`,
	`{"ociVersion":"1.0.0",}`, `{"process":{"args":["a",]}}`,
}

var fastAccepts = []string{
	`{}`,
	` { "ociVersion" : "1.0.2" } ` + "\n",
	`{"process":null,"root":null,"linux":null,"hooks":null,"mounts":null,"annotations":null}`,
	`{"process":{"user":null,"terminal":null,"args":[],"env":null,"oomScoreAdj":-1000}}`,
	`{"annotations":{},"linux":{"sysctl":{"a":"1","a":"2"},"namespaces":[]}}`,
	`{"ociVersion":"a\"b\\c\/d\b\f\n\r\t\u00e9\u0041\u2028"}`,
	`{"ociVersion":"日本語"}`,
	`{"linux":{"resources":{"memory":{"limit":-1,"swap":9223372036854775807},"cpu":{"shares":18446744073709551615}}}}`,
	`{"linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":-0,"fileMode":438}]}}`,
}

func TestFastSpecCases(t *testing.T) {
	for _, in := range fastDeclines {
		if _, ok := specjson.Decode([]byte(in)); ok {
			t.Errorf("Decode accepted %q", in)
		}
		sameAsJSON(t, []byte(in))
	}
	for _, in := range fastAccepts {
		if _, ok := specjson.Decode([]byte(in)); !ok {
			t.Errorf("Decode declined %q", in)
		}
		sameAsJSON(t, []byte(in))
	}
}

// sameAsJSON: whatever Decode accepts, encoding/json decodes to the
// same spec; and Parse's result (fast or not) is encoding/json's.
func sameAsJSON(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := specjson.Decode(data)
	slow, slowOK := slowDecode(data)
	if ok && !slowOK {
		t.Fatalf("Decode accepted %q, which encoding/json refuses", data)
	}
	if ok && !reflect.DeepEqual(fast, slow) {
		f, _ := json.Marshal(fast)
		s, _ := json.Marshal(slow)
		t.Fatalf("specjson.Decode(%q) = %s, encoding/json: %s", data, f, s)
	}
	parsed, err := config.Parse(data)
	if slowOK != (err == nil) || slowOK && !reflect.DeepEqual(parsed, slow) {
		t.Fatalf("Parse(%q) = %v, %v; encoding/json ok %v", data, parsed, err, slowOK)
	}
}

func FuzzFastSpecSameAsJSON(f *testing.F) {
	for _, in := range append(fastDeclines, fastAccepts...) {
		f.Add([]byte(in))
	}
	d, _ := json.Marshal(config.Default())
	f.Add(d)
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data)
		if s, ok := slowDecode(data); ok {
			sameBytes(t, s)
		}
	})
}

// sameBytes: Encode writes what json.Marshal writes, or declines.
func sameBytes(t *testing.T, s *specs.Spec) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := specjson.Encode(s)
	if !ok {
		if s.Solaris == nil && s.Windows == nil && s.VM == nil && s.ZOS == nil && s.FreeBSD == nil {
			t.Fatalf("Encode declined a Linux spec: %s", want)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode wrote\n%s\njson.Marshal\n%s", got, want)
	}
}

func TestEncodeSameBytes(t *testing.T) {
	for _, odd := range []string{"é\"\\\n<", "\xff\u2028\u2029\b\f\x01\x1f&>\r\t\x7f", "", zeroLeaves} {
		var s specs.Spec
		n := 0
		fillWith(t, reflect.ValueOf(&s).Elem(), &n, odd)
		sameBytes(t, &s)
	}
	sameBytes(t, config.Default())
	r := config.Default()
	config.ToRootless(r)
	sameBytes(t, r)
	sameBytes(t, &specs.Spec{})
	sameBytes(t, &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{}}}}})
	sameBytes(t, &specs.Spec{Annotations: map[string]string{}, Mounts: []specs.Mount{}})
	for _, in := range fastAccepts {
		s, _ := specjson.Decode([]byte(in))
		sameBytes(t, s)
	}
	if _, ok := specjson.Encode(&specs.Spec{Windows: &specs.Windows{}}); ok {
		t.Error("Encode wrote a spec with a windows section")
	}
}
