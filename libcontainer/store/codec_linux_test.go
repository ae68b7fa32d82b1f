package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sameAsJSON holds the state codec to encoding/json: what decodeStateFast
// reads, json.Unmarshal reads alike; what json.Unmarshal reads,
// encodeState writes as json.Marshal does; the same for recover.json.
func sameAsJSON(t *testing.T, data []byte) {
	t.Helper()
	var want State
	jerr := json.Unmarshal(data, &want)
	if got, ok := decodeStateFast(data); ok && (jerr != nil || !reflect.DeepEqual(got, &want)) {
		t.Fatalf("decodeStateFast(%q) = %+v; json.Unmarshal %+v, %v", data, got, want, jerr)
	}
	if jerr == nil {
		sameBytes(t, &want)
	}
	var wrec recovery
	rerr := json.Unmarshal(data, &wrec)
	if got, ok := decodeRecoveryFast(data); ok && (rerr != nil || !reflect.DeepEqual(got, &wrec)) {
		t.Fatalf("decodeRecoveryFast(%q) = %+v; json.Unmarshal %+v, %v", data, got, wrec, rerr)
	}
	if rerr == nil {
		want, _ := json.Marshal(&wrec)
		if got := encodeRecovery(&wrec); !bytes.Equal(got, want) {
			t.Fatalf("encodeRecovery wrote\n%s\njson.Marshal\n%s", got, want)
		}
	}
}

func sameBytes(t *testing.T, st *State) {
	t.Helper()
	want, werr := json.Marshal(st)
	got, err := encodeState(st)
	if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("encodeState wrote\n%s (%v)\njson.Marshal\n%s (%v)", got, err, want, werr)
	}
}

func TestStateCodec(t *testing.T) {
	umask := uint32(0o22)
	spec := &specs.Spec{Version: "1.3.0", Process: &specs.Process{Args: []string{"sh", "-c", "echo <&> \u2028"}, Cwd: "/", User: specs.User{Umask: &umask}},
		Annotations: map[string]string{"b": "2", "a": "1"}}
	raw, _ := json.Marshal(spec)
	states := []*State{
		{},
		{ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", Phase: PhaseCreated, Pid: 12, StartTime: 345,
			Created: time.Date(2026, 12, 6, 1, 2, 3, 456789, time.UTC), Owner: "root", Config: ConfigOf(spec),
			Cgroup: &cgroups.Saved{Mode: 2, V1: map[string]string{"memory": "/m", "cpu": "/c"}, V1Roots: map[string]string{"cpu": "/r"},
				Unified: "/u", URoot: "/ur", V2Ctl: []string{"io", "memory"}, Rootless: true,
				Systemd: &cgroups.SavedUnit{Unit: "x.scope", Slice: "s.slice", User: true}},
			Exit: &ExitStatus{Code: 137, OOMKill: true, ExitedAt: time.Date(2026, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600))}},
		{ID: "c2", Config: &Config{raw: raw}, Cgroup: &cgroups.Saved{}, Exit: &ExitStatus{}},
		{ID: "c3", Config: &Config{raw: []byte(`{"ociVersion": "1.0.0"}`)}},       // not compact: encoding/json's
		{ID: "c4", Config: &Config{raw: []byte(`{"ociVersion":"<"}`)}},            // not HTML-escaped
		{ID: "c5", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},         // json.Marshal's error
		{ID: "c6", Config: &Config{spec: &specs.Spec{Windows: &specs.Windows{}}}}, // another platform
	}
	for _, st := range states {
		sameBytes(t, st)
		if b, err := json.Marshal(st); err == nil {
			sameAsJSON(t, b)
			if _, ok := decodeStateFast(b); !ok && st.ID != "c6" {
				t.Errorf("decodeStateFast declined what json.Marshal wrote: %s", b)
			}
		}
	}
	for _, in := range []string{`{"id":"x","ID":"y"}`, `{"id":"x","other":1}`, `{"id":"x","created":"bad"}`, `{"id":"x","config":{"a":1.5}}`, `{"id":"x"} x`} {
		if _, ok := decodeStateFast([]byte(in)); ok {
			t.Errorf("decodeStateFast read %q", in)
		}
		sameAsJSON(t, []byte(in))
	}
}

func FuzzStateCodec(f *testing.F) {
	f.Add([]byte(`{"id":"c1","phase":"created","pid":12,"startTime":5,"created":"2026-12-06T01:02:03.000456789Z","config":{"ociVersion":"1.3.0"}}`))
	f.Add([]byte(`{"id":"c1","cgroup":{"mode":1,"v1":{"cpu":"/x"},"systemd":{"unit":"u","slice":"s"}},"exit":{"code":1,"exitedAt":"2026-01-01T00:00:00+01:00"}}`))
	f.Add([]byte(`{"pid":1,"startTime":2,"cgroup":{"mode":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsJSON(t, data) })
}
