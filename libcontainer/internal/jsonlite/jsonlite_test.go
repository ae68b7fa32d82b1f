package jsonlite

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestCompact(t *testing.T) {
	for _, in := range []string{`{"a":"b c"}`, `[1,2]`, `"\"<"`, `{"a":"\\"}`, `"é\u2028"`, `{"a":{"b":[true,null]}}`} {
		var buf bytes.Buffer
		err := json.Compact(&buf, []byte(in))
		want := err == nil && bytes.Equal(buf.Bytes(), []byte(in))
		// encoding/json also escapes for HTML what a marshaller returns.
		if want {
			var h bytes.Buffer
			json.HTMLEscape(&h, []byte(in))
			want = bytes.Equal(h.Bytes(), []byte(in))
		}
		if got := Compact([]byte(in)); got != want {
			t.Errorf("Compact(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{`{"a": 1}`, "[1,\n2]", `"<"`, `"a&b"`, "\"\u2028\"", `"unterminated`} {
		if Compact([]byte(in)) {
			t.Errorf("Compact(%q) = true", in)
		}
	}
}

func TestRaw(t *testing.T) {
	d := NewDec([]byte(` {"x": [1, {"y": "z\"}"}, true, null, -3], "w": "v"} `))
	var raw []byte
	var w string
	d.Obj(func(k string) bool {
		switch k {
		case "x":
			raw = d.Raw()
		case "w":
			Str(d, &w)
		default:
			return false
		}
		return true
	})
	if !d.Done() || string(raw) != `[1, {"y": "z\"}"}, true, null, -3]` || w != "v" {
		t.Fatalf("Raw %q, w %q, done %v", raw, w, d.Done())
	}
	for _, in := range []string{`[1.5]`, `[1e3]`, `[tru]`, `{"a" 1}`, `[1,]`, `[`} {
		d := NewDec([]byte(in))
		if d.Raw(); d.Done() {
			t.Errorf("Raw read %q", in)
		}
	}
}
