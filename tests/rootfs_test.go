package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountLine is one parsed line of /proc/self/mountinfo.
type mountLine struct {
	point, opts, fstype, superOpts string
}

// findMount returns the last (topmost) mount at point in mountinfo text.
func findMount(mountinfoText, point string) (mountLine, bool) {
	var found mountLine
	ok := false
	for _, l := range lines(mountinfoText) {
		pre, post, cut := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !cut || len(f) < 6 || len(g) < 3 || f[4] != point {
			continue
		}
		found, ok = mountLine{point: f[4], opts: f[5], fstype: g[0], superOpts: g[2]}, true
	}
	return found, ok
}

func hasOpt(opts, opt string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

func TestTmpfsMount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(all(
		withMount(specs.Mount{Destination: "/mnt/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=1777", "nosuid"}}),
		// 1777 is tmpfs's default mode; a second mount checks that mode= is passed on.
		withMount(specs.Mount{Destination: "/mnt/t2", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=750"}}),
	), "sh", "-c", "cat /proc/self/mountinfo; echo MODE=$(stat -c %a /mnt/t); echo MODE2=$(stat -c %a /mnt/t2)")
	m, ok := findMount(out, "/mnt/t")
	if !ok {
		t.Fatalf("no /mnt/t in the container's mountinfo:\n%s", out)
	}
	if m.fstype != "tmpfs" || !hasOpt(m.opts, "nosuid") || !hasOpt(m.superOpts, "size=1024k") {
		t.Errorf("/mnt/t mount = %+v, want tmpfs, nosuid, size=1024k", m)
	}
	if got := kv(out); got["MODE"] != "1777" || got["MODE2"] != "750" {
		t.Errorf("tmpfs modes = %q and %q, want 1777 and 750", got["MODE"], got["MODE2"])
	}
}

// TestTmpfsCopyUp: tmpcopyup (runc's extension, sent by podman for
// --read-only) fills the tmpfs with the image's files at that place —
// modes, owners, symlinks and subdirectories kept — while writes go to the
// tmpfs, not the rootfs; with ro the filled tmpfs is read-only.
func TestTmpfsCopyUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(
		withMount(specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "size=1m"}}),
		withMount(specs.Mount{Destination: "/rodata", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro"}}),
		withMount(specs.Mount{Destination: "/empty", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}}),
		withShell(`set -e
grep -q tmpfs /proc/self/mountinfo
awk '$5=="/data"{print "FS="$9}' /proc/self/mountinfo | tail -1
echo F=$(cat /data/f); echo SUB=$(cat /data/sub/g); echo LINK=$(readlink /data/l)
echo MODE=$(stat -c %a:%u:%g /data/f); echo DMODE=$(stat -c %a /data/sub)
echo new > /data/new
{ echo x > /rodata/x; } 2>/dev/null && echo RO=writable || echo RO=$(cat /rodata/f)
echo EMPTY=$(ls -A /empty | wc -l)`),
	))
	rootfs := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"data/sub", "rodata", "empty"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(rootfs, "data/sub"), 0o710); err != nil {
		t.Fatal(err)
	}
	for f, c := range map[string]string{"data/f": "image-f", "data/sub/g": "image-g", "rodata/f": "image-ro"} {
		if err := os.WriteFile(filepath.Join(rootfs, f), []byte(c+"\n"), 0o604); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(rootfs, "data/f"), 1000, 1001); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(rootfs, "data/l")); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	got := kv(r.Stdout)
	want := map[string]string{"FS": "tmpfs", "F": "image-f", "SUB": "image-g", "LINK": "/etc/passwd", "MODE": "604:1000:1001", "DMODE": "710", "RO": "image-ro", "EMPTY": "0"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tmpcopyup: %s=%q, want %q (run: %v)", k, got[k], v, r)
		}
	}
	if _, err := os.Stat(filepath.Join(rootfs, "data/new")); err == nil {
		t.Errorf("a file written to the tmpcopyup tmpfs landed in the rootfs")
	}
}

// hostDir makes a host dir with a file in it, for bind mounts.
func hostDir(t *testing.T, e *env, name string) string {
	t.Helper()
	d := e.mkdir(name)
	if err := os.WriteFile(filepath.Join(d, "hello.txt"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range ents {
		names = append(names, en.Name())
	}
	return names
}

func TestBindMountReadOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := hostDir(t, e, "hostdata")
	out := e.mustRun(withMount(specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro"}}),
		"sh", "-c", "cat /data/hello.txt; touch /data/new 2>/dev/null; echo TOUCH=$?; cat /proc/self/mountinfo")
	if !strings.HasPrefix(out, "from-host\n") {
		t.Errorf("host file not visible at /data: %q", out)
	}
	if kv(out)["TOUCH"] == "0" {
		t.Errorf("writing to a ro bind mount succeeded")
	}
	if m, ok := findMount(out, "/data"); !ok || !hasOpt(m.opts, "ro") {
		t.Errorf("/data mount = %+v (found %v), want ro", m, ok)
	}
	if names := dirNames(t, src); len(names) != 1 {
		t.Errorf("host dir changed: %v", names)
	}
}

func TestBindMountReadWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := hostDir(t, e, "hostdata")
	e.mustRun(withMount(specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "rw"}}),
		"sh", "-c", "echo from-container > /data/out.txt")
	if b, err := os.ReadFile(filepath.Join(src, "out.txt")); err != nil || string(b) != "from-container\n" {
		t.Errorf("file written in the container at /data/out.txt: host sees %q, %v", b, err)
	}
}

func TestNoexecMount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tmpfs := func(dst string, opts ...string) func(*specs.Spec) {
		return withMount(specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	out := e.mustRun(all(tmpfs("/mnt/ex"), tmpfs("/mnt/ne", "noexec")), "sh", "-c",
		"cp /bin/busybox /mnt/ex/true; cp /bin/busybox /mnt/ne/true; "+
			"/mnt/ex/true; echo EXEC=$?; /mnt/ne/true 2>/dev/null; echo NOEXEC=$?")
	if got := kv(out); got["EXEC"] != "0" || got["NOEXEC"] != "126" {
		t.Errorf("exec on plain tmpfs = %s (want 0), on noexec tmpfs = %s (want 126)", got["EXEC"], got["NOEXEC"])
	}
}

func TestReadonlyRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(
		func(s *specs.Spec) { s.Root.Readonly = true },
		withMount(specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}),
		withShell("touch /x 2>/dev/null; echo ROOT=$?; touch /tmp/y; echo TMP=$?"),
	))
	r := e.rt("run", "--bundle", bundle, e.newID())
	if got := kv(r.Stdout); r.Code != 0 || got["ROOT"] == "0" || got["TMP"] != "0" {
		t.Errorf("readonly root: %v; want touch /x to fail and touch /tmp/y to work", r)
	}
	if _, err := os.Stat(filepath.Join(bundle, "rootfs/x")); err == nil {
		t.Errorf("/x was created in the read-only rootfs")
	}
}

func TestMaskedPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A file with content on the host: runc's default spec masks both.
	var maskedFile string
	for _, f := range []string{"/proc/kcore", "/proc/timer_list"} {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			maskedFile = f
			break
		}
	}
	script := "echo SECRET=$(ls -A /secret | wc -l); echo ACPI=$(ls -A /proc/acpi 2>/dev/null | wc -l)"
	if maskedFile != "" {
		script += "; echo FILE=$(cat " + maskedFile + " 2>/dev/null | wc -c)"
	}
	bundle := e.newBundle(all(withShell(script), func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/secret", "/proc/timer_list")
	}))
	secret := filepath.Join(bundle, "rootfs/secret")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "key"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	got := kv(r.Stdout)
	if r.Code != 0 || got["SECRET"] != "0" || got["ACPI"] != "0" {
		t.Errorf("masked dirs: %v; want /secret and /proc/acpi empty", r)
	}
	if maskedFile != "" && got["FILE"] != "0" {
		t.Errorf("masked %s reads %s bytes, want 0", maskedFile, got["FILE"])
	}
	if names := dirNames(t, secret); len(names) != 1 {
		t.Errorf("masking changed the rootfs dir: %v", names)
	}
}

func TestReadonlyPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Linux.ReadonlyPaths = []string{"/proc/sys"}
	}, "sh", "-c", "(echo x > /proc/sys/kernel/domainname) 2>&1; echo RC=$?; cat /proc/self/mountinfo")
	if !strings.Contains(out, "Read-only file system") || kv(out)["RC"] == "0" {
		t.Errorf("write to /proc/sys: %q; want a read-only file system error", out)
	}
	if m, ok := findMount(out, "/proc/sys"); !ok || !hasOpt(m.opts, "ro") {
		t.Errorf("/proc/sys mount = %+v (found %v), want ro", m, ok)
	}
}

// A mount destination that goes through a symlink pointing outside the
// rootfs must be resolved inside the rootfs, never on the host.
func TestMountThroughSymlinkStaysInRootfs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := hostDir(t, e, "bindsrc")
	absTarget := filepath.Join(e.base, "escape-abs") // must never be created
	relTarget := filepath.Join(e.base, "escape-rel")
	bundle := e.newBundle(all(
		withMount(specs.Mount{Destination: "/evil/sub", Type: "bind", Source: src, Options: []string{"rbind"}}),
		withMount(specs.Mount{Destination: "/evil2/sub", Type: "bind", Source: src, Options: []string{"rbind"}}),
		withShell("cat /evil/sub/hello.txt /evil2/sub/hello.txt"),
	))
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.Symlink(absTarget, filepath.Join(rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 20)+relTarget[1:], filepath.Join(rootfs, "evil2")); err != nil {
		t.Fatal(err)
	}
	mountsBefore := len(mountsUnder(e.base))
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code != 0 || r.Stdout != "from-host\nfrom-host\n" {
		t.Errorf("run: %v; want both mounts visible through the symlinks inside the container", r)
	}
	for _, p := range []string{absTarget, relTarget} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("host path %s was created by following a rootfs symlink", p)
		}
	}
	if n := len(mountsUnder(e.base)); n != mountsBefore {
		t.Errorf("host mounts under %s: %d before, %d after", e.base, mountsBefore, n)
	}
	if _, err := os.Stat(filepath.Join(rootfs, absTarget[1:], "sub")); err != nil {
		t.Errorf("mount point not created inside the rootfs at %s: %v", absTarget, err)
	}
	if names := dirNames(t, src); len(names) != 1 {
		t.Errorf("bind source changed: %v", names)
	}
}

func TestDefaultDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(nil, "sh", "-c", `
for d in null zero full random urandom tty; do test -c /dev/$d && echo $d=char; done
echo fd=$(readlink /dev/fd) stdin=$(readlink /dev/stdin) stdout=$(readlink /dev/stdout) stderr=$(readlink /dev/stderr)
test -e /dev/ptmx && echo ptmx=yes
echo nullnum=$(stat -c %t:%T /dev/null)
echo zeroread=$(head -c 4 /dev/zero | wc -c)`)
	got := kv(strings.ReplaceAll(out, " ", "\n"))
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if got[d] != "char" {
			t.Errorf("/dev/%s is not a character device", d)
		}
	}
	want := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2", "ptmx": "yes", "nullnum": "1:3", "zeroread": "4"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (output %q)", k, got[k], v, out)
		}
	}
}

func TestLinuxDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mode := os.FileMode(0o666)
	out := e.mustRun(func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/hullnull", Type: "c", Major: 1, Minor: 3, FileMode: &mode})
	}, "stat", "-c", "%F %t %T %a", "/dev/hullnull")
	if strings.TrimSpace(out) != "character special file 1 3 666" {
		t.Errorf("/dev/hullnull: %q, want character special file 1 3 666", out)
	}
}

func TestNoPivot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run(withShell("cat /etc/hull-marker; ls /home"), "--no-pivot")
	if r.Code != 0 || r.Stdout != "hull-rootfs\nuser\n" {
		t.Errorf("run --no-pivot: %v; want the container's rootfs as /", r)
	}
}

func TestRootfsPropagationPrivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) { s.Linux.RootfsPropagation = "private" }, "cat", "/proc/self/mountinfo")
	for _, l := range lines(out) {
		if f := strings.Fields(l); len(f) > 6 && f[4] == "/" && strings.Contains(l, "shared:") {
			t.Errorf("root mount is shared with rootfsPropagation private: %s", l)
		}
	}
}

func TestProcessSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Process.Cwd = "/home/user"
		s.Process.Env = []string{"PATH=/bin", "HULL_FOO=bar baz"}
		umask := uint32(0o027)
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask}
	}, "sh", "-c", `echo PWD=$(pwd); echo FOO=$HULL_FOO; echo UMASK=$(umask); echo ID=$(id); echo GROUPS=$(id -G); env | grep -c '^HULL_FOO=bar baz$'`)
	got := kv(out)
	want := map[string]string{"PWD": "/home/user", "FOO": "bar baz", "UMASK": "0027"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.HasPrefix(got["ID"], "uid=1000(user) gid=1000(user)") {
		t.Errorf("id = %q, want uid=1000(user) gid=1000(user)", got["ID"])
	}
	if g := strings.Fields(got["GROUPS"]); strings.Join(g, " ") != "1000 10 20" {
		t.Errorf("id -G = %q, want 1000 10 20", got["GROUPS"])
	}
}

func TestArgsPathLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := func(s *specs.Spec) { s.Process.Env = []string{"PATH=/opt/hullbin:/bin"} }
	// hullprobe only exists in the container's /opt/hullbin.
	if out := e.mustRun(path, "hullprobe"); strings.TrimSpace(out) != "probe-ok /opt/hullbin/hullprobe" {
		t.Errorf("hullprobe: %q, want probe-ok /opt/hullbin/hullprobe", out)
	}
	if out := e.mustRun(path, "ls", "/opt/hullbin"); strings.TrimSpace(out) != "hullprobe" {
		t.Errorf("ls /opt/hullbin: %q", out)
	}
}

// Of rro and rrw (recursive attributes, mount_setattr), the last given
// wins, as runc's: "rro,rrw" leaves the mount and its submounts writable,
// "rrw,rro" makes them read-only.
func TestBindMountRecursiveAttrLastWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := hostDir(t, e, "hostdata")
	bind := func(dst string, opts ...string) func(*specs.Spec) {
		return withMount(specs.Mount{Destination: dst, Type: "bind", Source: src, Options: append([]string{"rbind"}, opts...)})
	}
	out := e.mustRun(all(bind("/rw", "rro", "rrw"), bind("/ro", "rrw", "rro")), "sh", "-c",
		"touch /rw/new-rw 2>/dev/null; echo RW=$?; touch /ro/new-ro 2>/dev/null; echo RO=$?")
	if got := kv(out); got["RW"] != "0" || got["RO"] != "1" {
		t.Errorf("touch in a rro,rrw bind mount = %s (want 0: writable), in a rrw,rro one = %s (want 1: read-only)", got["RW"], got["RO"])
	}
}
