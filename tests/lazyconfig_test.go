package tests

import (
	"os"
	"strings"
	"testing"
)

// hull decodes the config kept in state.json only when a command needs it
// (start reads its poststart hooks). A config of the wrong shape there
// must still stop start before the container's process runs, with an
// error that says the state is damaged, and delete --force must still
// clean up.
func TestStartDamagedKeptConfig(t *testing.T) {
	if !isHull {
		t.Skip("hull's state.json layout")
	}
	e := newEnv(t)
	id, _ := e.create(e.newBundle(withArgs("sleep", "100")))
	path := stateFile(e, id)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"config":{`, `"config":{"hooks":"x",`, 1)
	if bad == string(b) {
		t.Fatalf("no config object in %s", path)
	}
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.rt("start", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "damaged") {
		t.Errorf("start with a damaged config in state.json: %v; want a failure saying it is damaged", r)
	}
	if s := e.state(id); s.Status != "created" {
		t.Errorf("after the refused start the container is %q, want still created (its process must not run)", s.Status)
	}
	e.mustRT("delete", "--force", id)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state.json still there after delete --force: %v", err)
	}
}
