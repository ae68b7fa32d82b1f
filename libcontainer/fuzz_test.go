package libcontainer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/hullrt/hull/libcontainer/store"
)

func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"9", "KILL", "SIGTERM", "rtmin+3", "RTMAX-1", "", "-1", "65"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignal(s)
		if err == nil && (sig <= 0 || sig > 64) {
			t.Fatalf("ParseSignal(%q) = %d without error", s, sig)
		}
	})
}

func FuzzParseMountOptions(f *testing.F) {
	f.Add("rbind;ro;nosuid;rprivate;size=1m")
	f.Add("rro;rnoatime;idmap")
	f.Add("rw;ro;nosuid;suid;rrelatime;ridmap;idmap;bind;mode=755")
	f.Add("rrw;rro;rnosymfollow;rsymfollow;tmpcopyup;rbind;bind;shared;rslave")
	f.Add(",")
	f.Add("a,b;ro")
	f.Add("ro;;rw")
	f.Fuzz(func(t *testing.T, s string) {
		opts := strings.Split(s, ";")
		m, err := parseMountOptions(opts)
		// Refused exactly when an option is empty or holds a comma.
		bad := false
		for _, o := range opts {
			bad = bad || o == "" || strings.ContainsRune(o, ',')
		}
		if (err != nil) != bad {
			t.Fatalf("parseMountOptions(%q): %v; want an error: %v", opts, err, bad)
		}
		if err != nil {
			return
		}
		// A flag is set or cleared, never both: the last option wins.
		if m.flags&m.clear != 0 {
			t.Fatalf("parseMountOptions(%q): flags %#x and clear %#x share bits", opts, m.flags, m.clear)
		}
		// The options are a canonical list of what was parsed: parsing
		// that list again gives the same options.
		canon := formatMountOptions(m)
		m2, err := parseMountOptions(canon)
		if err != nil {
			t.Fatalf("parseMountOptions(%q) (from %q): %v", canon, opts, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("parse(%q) = %+v, but parse(format) = parse(%q) = %+v", opts, *m, canon, *m2)
		}
	})
}

// formatMountOptions writes m back as an option list (test only): each
// bit by the option that sets or clears it, then the rest.
func formatMountOptions(m *mountOpts) []string {
	var out []string
	names := func(table map[string]uintptr, v uintptr) {
		var l []string
		for name, bit := range table {
			if v&bit == bit && bit != 0 {
				l = append(l, name)
			}
		}
		sort.Strings(l)
		out = append(out, l...)
	}
	set, clr := map[string]uintptr{}, map[string]uintptr{}
	for name, f := range flagOpts {
		if f.clear {
			clr[name] = f.flag
		} else {
			set[name] = f.flag
		}
	}
	names(set, m.flags)
	names(clr, m.clear)
	aset, aclr := map[string]uintptr{}, map[string]uintptr{}
	for name, a := range attrOpts {
		if a.clear {
			aclr[name] = uintptr(a.attr)
		} else {
			aset[name] = uintptr(a.attr)
		}
	}
	names(aset, uintptr(m.attrSet))
	names(aclr, uintptr(m.attrClr))
	if m.atime && m.attrSet&(unix.MOUNT_ATTR_NOATIME|unix.MOUNT_ATTR_STRICTATIME) == 0 {
		out = append(out, "rrelatime") // MOUNT_ATTR_RELATIME is 0
	}
	for _, p := range m.propagation {
		for name, v := range propagationOpts {
			if v == p {
				out = append(out, name)
			}
		}
	}
	switch {
	case m.recursive:
		out = append(out, "rbind")
	case m.bind:
		out = append(out, "bind")
	}
	if m.tmpcopyup {
		out = append(out, "tmpcopyup")
	}
	switch {
	case m.ridmap:
		out = append(out, "ridmap")
	case m.idmap:
		out = append(out, "idmap")
	}
	return append(out, m.data...)
}

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"abc", "..", "a/b", "", ".", "x.y-z_1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if store.ValidateID(id) != nil {
			return
		}
		for _, c := range id {
			if c == '/' || c == 0 {
				t.Fatalf("ValidateID accepted %q", id)
			}
		}
		if id == "." || id == ".." {
			t.Fatalf("ValidateID accepted %q", id)
		}
	})
}

func FuzzSyncMessage(f *testing.F) {
	f.Add([]byte(`{"type":"ready"}`), "error", 0, " exec: \"x\": not found\n", 2, -1)
	f.Add([]byte(`{"type":"pid","pid":12}`), "pid", 12, "", 0, 0)
	f.Add([]byte(`{"type":"config","config":{"id":"x","spec":{"ociVersion":"1.3.0","process":{"args":[]}}}}`), "mount-source", 0, "", 1234, 7)
	f.Add([]byte(`{"type":"error","error":"e","errno":1,"mount":3}`), "", 1, "x", 1, 1)
	f.Fuzz(func(t *testing.T, data []byte, typ string, pid int, errStr string, errno, mount int) {
		// What arrives is decoded, or refused; never a panic. Encoding what
		// was decoded and decoding that again gives the same encoding.
		if m, err := decodeMessage(data); err == nil {
			b1, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("decoded %q, cannot encode it: %v", data, err)
			}
			m2, err := decodeMessage(b1)
			if err != nil {
				t.Fatalf("decoded %q, encoded as %q, which does not decode: %v", data, b1, err)
			}
			if b2, _ := json.Marshal(m2); !bytes.Equal(b1, b2) {
				t.Fatalf("decoded %q: encoded %q, then %q", data, b1, b2)
			}
		}
		// A message sent is the message received, through the framing of
		// the real socket. (JSON carries UTF-8 only: the protocol's strings
		// are; others are not this property's business.)
		if !utf8.ValidString(typ) || !utf8.ValidString(errStr) {
			return
		}
		sent := &message{Type: typ, Pid: pid, Error: errStr, Errno: errno}
		if mount >= 0 {
			sent.Mount = &mount
		}
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		sendErr := make(chan error, 1)
		go func() {
			defer unix.Close(fds[0]) // the receiver sees the end, not a hang
			sendErr <- syncConn{fds[0]}.send(sent)
		}()
		got, err := syncConn{fds[1]}.recv()
		if err := <-sendErr; err != nil {
			t.Fatalf("send %+v: %v", sent, err)
		}
		if typ == "" {
			if err == nil {
				t.Fatalf("a message without a type was received: %+v", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("send %+v, receive: %v", sent, err)
		}
		if !reflect.DeepEqual(sent, got) {
			t.Fatalf("sent %+v, received %+v", sent, got)
		}
	})
}
