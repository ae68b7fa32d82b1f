package criu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	rpc "github.com/checkpoint-restore/go-criu/v8/rpc"
)

func TestCgMode(t *testing.T) {
	for in, want := range map[string]rpc.CriuCgMode{"": rpc.CriuCgMode_DEFAULT, "soft": rpc.CriuCgMode_SOFT, "full": rpc.CriuCgMode_FULL, "strict": rpc.CriuCgMode_STRICT, "ignore": rpc.CriuCgMode_IGNORE} {
		got, err := CgMode(in)
		if err != nil || got != want {
			t.Errorf("CgMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := CgMode("props"); err == nil || !strings.Contains(err.Error(), "invalid manage-cgroups-mode value") {
		t.Errorf("CgMode(props): %v, want runc's error", err)
	}
}

func TestFormatVersion(t *testing.T) {
	for v, want := range map[int]string{30000: "3.0.0", 31701: "3.17.1", 40100: "4.1.0"} {
		if got := FormatVersion(v); got != want {
			t.Errorf("FormatVersion(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestLogErrors(t *testing.T) {
	log := filepath.Join(t.TempDir(), "dump.log")
	var b strings.Builder
	for i := 1; i <= 30; i++ {
		switch i {
		case 26:
			b.WriteString("(00.040957) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n")
		case 27:
			b.WriteString("(00.040961) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n")
		default:
			b.WriteString("(00.000001) line\n")
		}
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	first, quoted := LogErrors(log)
	if first != "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" {
		t.Errorf("first error %q", first)
	}
	// Lines 21-27: five before the first error, the two errors.
	if len(quoted) != 7 || !strings.HasPrefix(quoted[0], "21:") || !strings.HasPrefix(quoted[6], "27:(00.040961) Error") {
		t.Errorf("quoted %q", quoted)
	}
	err := WithLog(&Failed{Type: rpc.CriuReqType_DUMP}, filepath.Dir(log), "dump.log")
	want := "criu failed: type DUMP errno 0: Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds (log: " + log + ")"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// A criu that is not there: an error naming the version needed, no hang.
func TestCheckMissing(t *testing.T) {
	c := &Client{Path: filepath.Join(t.TempDir(), "criu")}
	err := c.Check(MinVersion, "checkpoint")
	if err == nil || !strings.Contains(err.Error(), "checkpoint needs criu 3.0.0 or newer") {
		t.Errorf("Check with no criu: %v", err)
	}
}
