package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// idmapSource makes dir/src with f owned by 100:211, and a host bind mount
// of dir/sub (g owned by 101:222) at dir/src/sub, removed at cleanup.
func idmapSource(t *testing.T, e *env) string {
	t.Helper()
	src := e.mkdir("src")
	sub := e.mkdir("sub")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(src, "f"), nil, 0o644))
	must(os.Chown(filepath.Join(src, "f"), 100, 211))
	must(os.WriteFile(filepath.Join(sub, "g"), nil, 0o644))
	must(os.Chown(filepath.Join(sub, "g"), 101, 222))
	must(os.Mkdir(filepath.Join(src, "sub"), 0o755))
	if out, err := exec.Command("mount", "--bind", sub, filepath.Join(src, "sub")).CombinedOutput(); err != nil {
		t.Fatalf("mount --bind: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", filepath.Join(src, "sub")).Run() })
	for _, d := range []string{e.base, src, sub} {
		must(os.Chmod(d, 0o755))
	}
	return src
}

var idmapUIDs = []specs.LinuxIDMapping{{ContainerID: 100, HostID: 101000, Size: 3}}
var idmapGIDs = []specs.LinuxIDMapping{{ContainerID: 210, HostID: 101100, Size: 20}}

// TestIDMapMount: a bind mount with uidMappings/gidMappings (or idmap,
// ridmap) shows the source's owners through the mapping: on-disk id 100
// as host 101000 with the mapping 100:101000:3. Without ridmap only the
// top mount is mapped: submounts keep their ids (the overflow id in a user
// namespace that does not map them). In a user namespace
// the ids are seen through it too, and idmap alone takes the container's
// mappings.
func TestIDMapMount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := idmapSource(t, e)
	script := withShell("stat -c F=%u:%g /m/f; stat -c G=%u:%g /m/sub/g")
	cases := []struct {
		name   string
		userns bool
		mount  specs.Mount
		f, g   string
	}{
		{"mappings, no userns", false, specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind"},
			UIDMappings: idmapUIDs, GIDMappings: idmapGIDs}, "101000:101101", "101:222"},
		{"ridmap, no userns", false, specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind", "ridmap"},
			UIDMappings: idmapUIDs, GIDMappings: idmapGIDs}, "101000:101101", "101001:101112"},
		{"mappings, userns", true, specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind", "idmap"},
			UIDMappings: idmapUIDs, GIDMappings: idmapGIDs}, "1000:1101", "65534:65534"},
		{"implied mapping, ridmap, userns", true, specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind", "ridmap"}},
			"100:211", "101:222"},
	}
	for _, c := range cases {
		var r result
		if c.userns {
			r = e.rt("run", "--bundle", userNSBundle(t, e, all(withMount(c.mount), script)), e.newID())
		} else {
			r = e.run(all(withMount(c.mount), script))
		}
		got := kv(r.Stdout)
		if r.Code != 0 || got["F"] != c.f || got["G"] != c.g {
			t.Errorf("%s: F=%q G=%q (%v), want F=%q G=%q", c.name, got["F"], got["G"], r, c.f, c.g)
		}
	}
}

// TestIDMapMountErrors: runc's rules for id-mapped mounts.
func TestIDMapMountErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.mkdir("src")
	cases := []struct {
		mount specs.Mount
		want  string
	}{
		{specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind", "idmap"}},
			"id-mapped mounts must have both uid and gid mappings specified"},
		{specs.Mount{Source: src, Destination: "/m", Type: "bind", UIDMappings: idmapUIDs},
			"id-mapped mounts must have both uid and gid mappings specified"},
		{specs.Mount{Source: "tmpfs", Destination: "/m", Type: "tmpfs", Options: []string{"idmap"}, UIDMappings: idmapUIDs, GIDMappings: idmapGIDs},
			"id-mapped mounts are only supported for bind-mounts"},
	}
	for _, c := range cases {
		r := e.run(withMount(c.mount))
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%+v: %v, want a failure saying %q", c.mount, r, c.want)
		}
	}
}

// TestBindSourceFromHost: a bind source the container's root cannot reach
// (a directory only host root may search) is opened by the runtime on the
// host side, as in runc; a missing source fails with runc's error.
func TestBindSourceFromHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hidden := e.mkdir("hidden")
	src := filepath.Join(hidden, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("seen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(hidden, 0o700); err != nil {
		t.Fatal(err)
	}
	bundle := userNSBundle(t, e, all(
		withMount(specs.Mount{Source: src, Destination: "/m", Type: "bind", Options: []string{"rbind"}}),
		withShell("cat /m/f")))
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "seen" {
		t.Errorf("bind of a source below a 0700 dir in a user namespace: %v, want \"seen\"", r)
	}

	missing := filepath.Join(e.base, "no-such-source")
	r = e.run(withMount(specs.Mount{Source: missing, Destination: "/m", Type: "bind", Options: []string{"bind"}}))
	want := "failed to fulfil mount request: open " + missing + ": no such file or directory"
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("missing bind source: %v, want a failure saying %q", r, want)
	}
}

// TestIDMapMountRootlessRefused: hull run by a user other than root refuses
// an id-mapped mount with runc's message (mapping a mount needs host root),
// before anything is made.
func TestIDMapMountRootlessRefused(t *testing.T) {
	t.Parallel()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("no setpriv(1) to run hull as another user: %v", err)
	}
	e := newEnv(t)
	src := e.mkdir("src")
	bundle := e.newBundle(all(withArgs("true"), withMount(specs.Mount{Source: src, Destination: "/m", Type: "bind",
		Options: []string{"bind", "idmap"}, UIDMappings: idmapUIDs, GIDMappings: idmapGIDs})))
	// The user reads the bundle and owns its own --root.
	root := e.mkdir("nobody-root")
	for _, d := range []string{e.base, bundle} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(root, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	id := e.newID()
	r := execBin(t, setpriv, "", "--reuid", "65534", "--regid", "65534", "--clear-groups",
		runtimeBin, "--root", root, "run", "--bundle", bundle, id)
	want := "id-mapped mounts are not supported for rootless containers"
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("id-mapped mount run as uid 65534: %v, want a failure saying %q", r, want)
	}
	if ents, err := os.ReadDir(root); err != nil || len(ents) != 0 {
		t.Errorf("--root %s holds %v (%v) after the refused run", root, ents, err)
	}
}
