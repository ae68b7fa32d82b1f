package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// editRaw rewrites the bundle's config.json as generic JSON, to produce
// configs that specs.Spec cannot express.
func editRaw(t *testing.T, bundle string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

type badInput struct {
	name string
	// prepare breaks a fresh bundle and may return the id to use ("" for a
	// fresh valid one) and a substring that hull's message must contain.
	prepare func(t *testing.T, e *env, bundle string) (hullWant string)
	id      *string
	// The one-line message must contain one of these (case-insensitive).
	want []string
}

func strp(s string) *string { return &s }

var badInputs = []badInput{
	{
		name: "malformed-json",
		prepare: func(t *testing.T, e *env, bundle string) string {
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {,}}`), 0o644); err != nil {
				t.Fatal(err)
			}
			return ""
		},
		want: []string{"json", "invalid character", "config"},
	},
	{
		name: "args-not-a-list",
		prepare: func(t *testing.T, e *env, bundle string) string {
			editRaw(t, bundle, func(m map[string]any) { m["process"].(map[string]any)["args"] = "sh" })
			return ""
		},
		want: []string{"args"},
	},
	{
		name: "rootfs-missing",
		prepare: func(t *testing.T, e *env, bundle string) string {
			editRaw(t, bundle, func(m map[string]any) { m["root"].(map[string]any)["path"] = "no-such-rootfs" })
			return ""
		},
		want: []string{"no-such-rootfs", "rootfs"},
	},
	{
		name: "unknown-namespace",
		prepare: func(t *testing.T, e *env, bundle string) string {
			s := loadSpec(t, bundle)
			n := len(s.Linux.Namespaces)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
			writeSpec(t, bundle, s)
			return fmt.Sprintf("linux.namespaces[%d].type", n)
		},
		want: []string{"foo"},
	},
	{
		name: "duplicate-namespace",
		prepare: func(t *testing.T, e *env, bundle string) string {
			s := loadSpec(t, bundle)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
			writeSpec(t, bundle, s)
			return ""
		},
		want: []string{"duplicate"},
	},
	{
		name: "bind-source-missing",
		prepare: func(t *testing.T, e *env, bundle string) string {
			s := loadSpec(t, bundle)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind",
				Source: filepath.Join(e.base, "no-such-source"), Options: []string{"rbind"}})
			writeSpec(t, bundle, s)
			return ""
		},
		want: []string{"no-such-source"},
	},
	{
		name: "args0-not-found",
		prepare: func(t *testing.T, e *env, bundle string) string {
			s := loadSpec(t, bundle)
			s.Process.Args = []string{"hull-no-such-command"}
			writeSpec(t, bundle, s)
			return ""
		},
		want: []string{"executable file not found in $PATH", "no such file or directory"},
	},
	{name: "id-dotdot", id: strp(".."), want: []string{"container id"}},
	{name: "id-slash", id: strp("a/b"), want: []string{"container id"}},
	{name: "id-empty", id: strp(""), want: []string{"container id"}},
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range badInputs {
		for _, cmd := range []string{"create", "run"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				bundle := e.newBundle(withArgs("true"))
				hullWant := ""
				if tc.prepare != nil {
					hullWant = tc.prepare(t, e, bundle)
				}
				id := ""
				if tc.id != nil {
					id = *tc.id
				} else {
					id = e.newID()
				}
				r := e.rt(cmd, "--bundle", bundle, id)
				if r.Code != 1 {
					t.Errorf("%s: exit %d, want 1 (%v)", cmd, r.Code, r)
				}
				msg := strings.TrimSpace(r.Stderr)
				if msg == "" || strings.Contains(msg, "\n") {
					t.Errorf("%s: stderr is not one line: %q", cmd, r.Stderr)
				}
				found := false
				for _, w := range tc.want {
					found = found || strings.Contains(strings.ToLower(msg), strings.ToLower(w))
				}
				if !found {
					t.Errorf("%s: stderr %q names none of %q", cmd, msg, tc.want)
				}
				if isHull && hullWant != "" && !strings.Contains(msg, hullWant) {
					t.Errorf("%s: stderr %q does not contain %q", cmd, msg, hullWant)
				}
				if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
					t.Errorf("list -q after a failed %s: %q, want empty", cmd, out)
				}
			})
		}
	}
}

func TestMissingContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.newID()
	for _, args := range [][]string{{"state", id}, {"kill", id}, {"kill", id, "KILL"}, {"delete", id}, {"start", id}} {
		r := e.rt(args...)
		if r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("%v on a missing container: %v; want exit 1 and \"does not exist\"", args, r)
		}
	}
}
