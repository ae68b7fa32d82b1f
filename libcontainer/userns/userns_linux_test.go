package userns

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func m(cid, hid, size uint32) specs.LinuxIDMapping {
	return specs.LinuxIDMapping{ContainerID: cid, HostID: hid, Size: size}
}

func maps(ms ...specs.LinuxIDMapping) []specs.LinuxIDMapping { return ms }

func TestDecide(t *testing.T) {
	const uid, gid = 1001, 1002
	for name, tc := range map[string]struct {
		euid, egid int
		uids, gids []specs.LinuxIDMapping
		want       Plan
	}{
		"root, any mapping: direct, setgroups allowed":  {0, 0, maps(m(0, 100000, 65536)), maps(m(0, 100000, 65536), m(65536, 5, 1)), Plan{}},
		"user, own ids to root: direct, setgroups deny": {uid, gid, maps(m(0, uid, 1)), maps(m(0, gid, 1)), Plan{SetgroupsDeny: true}},
		"user, own ids to 1000: direct":                 {uid, gid, maps(m(1000, uid, 1)), maps(m(1000, gid, 1)), Plan{SetgroupsDeny: true}},
		"user, multi-range: helpers, setgroups left":    {uid, gid, maps(m(0, uid, 1), m(1, 100000, 65536)), maps(m(0, gid, 1), m(1, 100000, 65536)), Plan{UIDHelper: true, GIDHelper: true}},
		"user, other single uid: helper":                {uid, gid, maps(m(0, 100000, 1)), maps(m(0, gid, 1)), Plan{UIDHelper: true, SetgroupsDeny: true}},
		"user, own uid but size 2: helper":              {uid, gid, maps(m(0, uid, 2)), maps(m(0, gid, 1)), Plan{UIDHelper: true, SetgroupsDeny: true}},
		"user, gid range only: gid helper":              {uid, gid, maps(m(0, uid, 1)), maps(m(0, 100000, 65536)), Plan{GIDHelper: true}},
		"user, no gid map: no setgroups":                {uid, gid, maps(m(0, uid, 1)), nil, Plan{}},
	} {
		t.Run(name, func(t *testing.T) {
			got := Decide(tc.euid, tc.egid, tc.uids, tc.gids)
			if got != tc.want {
				t.Fatalf("Decide(%d, %d, %v, %v) = %+v, want %+v", tc.euid, tc.egid, tc.uids, tc.gids, got, tc.want)
			}
			if got.NeedsHelper() != (tc.want.UIDHelper || tc.want.GIDHelper) {
				t.Fatalf("NeedsHelper() = %v", got.NeedsHelper())
			}
		})
	}
}

func TestHelperArgs(t *testing.T) {
	got := HelperArgs(42, maps(m(0, 1001, 1), m(1, 100000, 65536)))
	want := []string{"42", "0", "1001", "1", "1", "100000", "65536"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("HelperArgs = %q, want %q", got, want)
	}
	if txt := MapText(maps(m(0, 1001, 1), m(1, 100000, 65536))); txt != "0 1001 1\n1 100000 65536\n" {
		t.Fatalf("MapText = %q", txt)
	}
}

// fakeHelpers makes newuidmap and newgidmap scripts in a temp dir that
// record their arguments (or fail with a message) and points Lookup there.
func fakeHelpers(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"newuidmap", "newgidmap"} {
		body := strings.ReplaceAll(script, "NAME", n)
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := Lookup
	Lookup = func(name string) (string, error) { return filepath.Join(dir, name), nil }
	t.Cleanup(func() { Lookup = old })
	return dir
}

func TestWriteThroughHelpers(t *testing.T) {
	dir := fakeHelpers(t, `echo "$@" > "$(dirname "$0")/NAME.args"`)
	uids := maps(m(0, 1001, 1), m(1, 100000, 65536))
	gids := maps(m(0, 1002, 1), m(1, 200000, 65536))
	// pid 1's maps are never touched: both go through the helpers.
	if err := write(1, Plan{UIDHelper: true, GIDHelper: true}, uids, gids); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"newuidmap": "1 0 1001 1 1 100000 65536", "newgidmap": "1 0 1002 1 1 200000 65536"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".args"))
		if err != nil {
			t.Fatalf("%s was not run: %v", name, err)
		}
		if got := strings.TrimSpace(string(b)); got != want {
			t.Errorf("%s args %q, want %q", name, got, want)
		}
	}
}

func TestHelperErrorPassedOn(t *testing.T) {
	fakeHelpers(t, `echo "NAME: uid range [1-65537) -> [100000-165536) not allowed" >&2; exit 1`)
	err := write(1, Plan{UIDHelper: true, GIDHelper: true}, maps(m(0, 1001, 1), m(1, 100000, 65536)), maps(m(0, 1002, 1)))
	if err == nil {
		t.Fatal("a failing newuidmap gave no error")
	}
	for _, want := range []string{"newuidmap 1 0 1001 1 1 100000 65536", "exit status 1", "not allowed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestHelperMissing(t *testing.T) {
	old := Lookup
	Lookup = func(name string) (string, error) { return "", os.ErrNotExist }
	defer func() { Lookup = old }()
	err := write(1, Plan{UIDHelper: true}, maps(m(0, 100000, 65536)), nil)
	if err == nil || !strings.Contains(err.Error(), "needs newuidmap (package uidmap)") || !strings.Contains(err.Error(), "0 100000 65536") {
		t.Fatalf("error %v, want one naming newuidmap, its package and the mapping", err)
	}
}

func TestIsInitialMap(t *testing.T) {
	if !IsInitialMap("         0          0 4294967295\n") {
		t.Error("the initial map is not recognised")
	}
	if IsInitialMap("0 1001 1\n") || IsInitialMap("0 0 4294967295\n1 2 3\n") {
		t.Error("a namespace's map is taken for the initial one")
	}
}
