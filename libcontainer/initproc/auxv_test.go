package initproc

import (
	"debug/elf"
	"encoding/binary"
	"testing"
)

func TestAuxv(t *testing.T) {
	vec := func(pairs ...uint64) []byte {
		b := make([]byte, 0, 8*len(pairs))
		for _, p := range pairs {
			b = binary.NativeEndian.AppendUint64(b, p)
		}
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		val  uint64
		ok   bool
	}{
		{"present", vec(6, 4096, 7, 0x7f00, 0, 0), 0x7f00, true},
		{"zero", vec(7, 0, 0, 0), 0, true},
		{"after AT_NULL", vec(6, 4096, 0, 0, 7, 5), 0, false},
		{"absent", vec(6, 4096, 0, 0), 0, false},
		{"truncated", vec(6, 4096, 7)[:20], 0, false},
		{"empty", nil, 0, false},
	} {
		v, ok := auxv(c.b, 7)
		if v != c.val || ok != c.ok {
			t.Errorf("%s: auxv = %#x, %v; want %#x, %v", c.name, v, ok, c.val, c.ok)
		}
	}
}

// staticBinary must agree with the ELF headers of the running binary
// (this test binary: static or not, depending on how it was built).
func TestStaticBinaryMatchesELF(t *testing.T) {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := true
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			want = false
		}
	}
	if got := staticBinary(); got != want {
		t.Errorf("staticBinary() = %v, the ELF program headers say %v", got, want)
	}
}
