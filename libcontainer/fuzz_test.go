package libcontainer

import (
	"testing"

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
