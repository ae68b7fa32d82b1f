package libcontainer

import (
	"testing"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/proto"
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
	f.Add("rbind,ro,nosuid,rprivate,size=1m")
	f.Add("rro,rnoatime,idmap")
	f.Add(",")
	f.Fuzz(func(t *testing.T, s string) {
		var opts []string
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == ';' {
				opts = append(opts, s[start:i])
				start = i + 1
			}
		}
		m, err := config.ParseMountOptions(opts)
		if err == nil && m == nil {
			t.Fatal("nil options without error")
		}
	})
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
	f.Add([]byte(`{"type":"ready"}`))
	f.Add([]byte(`{"type":"pid","pid":12}`))
	f.Add([]byte(`{"type":"config","config":{"id":"x","spec":{"ociVersion":"1.3.0"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// What the parent and the init accept from each other: never a
		// panic, whatever arrives.
		proto.DecodeMessage(data)
	})
}
