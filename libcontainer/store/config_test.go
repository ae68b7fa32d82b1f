package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func saveLoad(t *testing.T, st *State) (Store, *State) {
	t.Helper()
	s := Store{Root: t.TempDir()}
	h, err := s.New(st)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	got, err := s.Load(st.ID)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s, got
}

// The config comes back as it was saved, whole or by the parts that are
// decoded alone; a state saved again without it being decoded keeps it.
func TestConfigRoundTrip(t *testing.T) {
	spec := &specs.Spec{
		Version:     "1.0.2",
		Process:     &specs.Process{Args: []string{"sh"}, Cwd: "/"},
		Annotations: map[string]string{"a": "b"},
		Hooks:       &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}},
		Linux:       &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}},
	}
	s, got := saveLoad(t, &State{ID: "c1", Phase: PhaseCreated, Config: ConfigOf(spec)})
	if got.Config == nil || got.Config.spec != nil {
		t.Fatalf("loaded config %+v: want one not decoded yet", got.Config)
	}
	if h, err := got.Config.Hooks(); err != nil || !reflect.DeepEqual(h, spec.Hooks) {
		t.Errorf("Hooks() = %+v, %v; want %+v", h, err, spec.Hooks)
	}
	if a, err := got.Config.Annotations(); err != nil || !reflect.DeepEqual(a, spec.Annotations) {
		t.Errorf("Annotations() = %v, %v; want %v", a, err, spec.Annotations)
	}
	h, err := s.Lock("c1")
	if err != nil {
		t.Fatal(err)
	}
	got.Pid = 42
	if err := h.Save(got); err != nil {
		t.Fatal(err)
	}
	h.Close()
	again, err := s.Load("c1")
	if err != nil {
		t.Fatal(err)
	}
	full, err := again.Config.Spec()
	if err != nil || !reflect.DeepEqual(full, spec) {
		t.Errorf("Spec() after a save of the undecoded config = %+v, %v; want %+v", full, err, spec)
	}
	if again.Pid != 42 {
		t.Errorf("pid %d, want 42", again.Pid)
	}
}

// A config specjson declines (another platform's section) is read by
// encoding/json, its parts alone too.
func TestConfigDeclinedBySpecjson(t *testing.T) {
	spec := &specs.Spec{
		Version:     "1.0.2",
		Annotations: map[string]string{"a": "b"},
		Hooks:       &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}},
		Windows:     &specs.Windows{LayerFolders: []string{"x"}},
	}
	_, got := saveLoad(t, &State{ID: "c1", Phase: PhaseCreated, Config: ConfigOf(spec)})
	if h, err := got.Config.Hooks(); err != nil || !reflect.DeepEqual(h, spec.Hooks) {
		t.Errorf("Hooks() = %+v, %v; want %+v", h, err, spec.Hooks)
	}
	if a, err := got.Config.Annotations(); err != nil || !reflect.DeepEqual(a, spec.Annotations) {
		t.Errorf("Annotations() = %v, %v; want %v", a, err, spec.Annotations)
	}
	if got.Config.spec != nil {
		t.Error("specjson decoded a config with a windows section")
	}
	if full, err := got.Config.Spec(); err != nil || !reflect.DeepEqual(full, spec) {
		t.Errorf("Spec() = %+v, %v; want %+v", full, err, spec)
	}
}

// No config: null on disk, nil back, and no error from its parts.
func TestConfigNone(t *testing.T) {
	_, got := saveLoad(t, &State{ID: "c1", Phase: PhaseCreating})
	if got.Config != nil {
		t.Fatalf("config %+v, want nil", got.Config)
	}
	if spec, err := got.Config.Spec(); spec != nil || err != nil {
		t.Errorf("Spec() of none = %v, %v", spec, err)
	}
	if h, err := got.Config.Hooks(); h != nil || err != nil {
		t.Errorf("Hooks() of none = %v, %v", h, err)
	}
}

// A config of the wrong shape is found when it is decoded: an error that
// says the state is damaged, not a half-filled spec.
func TestConfigDamaged(t *testing.T) {
	s, _ := saveLoad(t, &State{ID: "c1", Phase: PhaseCreated, Config: ConfigOf(&specs.Spec{Version: "1"})})
	path := filepath.Join(s.Dir("c1"), stateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `"config":{`, `"config":{"process":7,"hooks":"x","annotations":[1],`, 1)
	if bad == string(data) {
		t.Fatalf("no config in %s", data)
	}
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("c1")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, err := got.Config.Spec(); !errors.Is(err, ErrDamaged) {
		t.Errorf("Spec() of a damaged config: %v, want ErrDamaged", err)
	}
	if _, err := got.Config.Hooks(); !errors.Is(err, ErrDamaged) {
		t.Errorf("Hooks() of a damaged config: %v, want ErrDamaged", err)
	}
	if _, err := got.Config.Annotations(); !errors.Is(err, ErrDamaged) {
		t.Errorf("Annotations() of a damaged config: %v, want ErrDamaged", err)
	}
}
