package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runInPrivateMountNS runs script with sh in a private mount namespace of
// the test's own (unshare --mount --propagation private), so that what a
// container without a mount namespace mounts lands there and goes with it,
// never in this machine's mount namespace. HULL is the runtime, ROOT its
// --root.
func runInPrivateMountNS(t *testing.T, e *env, script string, env ...string) result {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skipf("no unshare(1) to make the test's private mount namespace: %v", err)
	}
	full := fmt.Sprintf("HULL=%q; ROOT=%q; %s\n%s", runtimeBin, e.root, strings.Join(env, "; "), script)
	return execBin(t, unshare, "", "--mount", "--propagation", "private", "sh", "-c", full)
}

// newMounts is the mount points in after that are not in before (both
// /proc/self/mountinfo texts).
func newMounts(before, after string) []string {
	old := map[string]int{}
	for _, l := range lines(before) {
		if f := strings.Fields(l); len(f) > 4 {
			old[f[4]]++
		}
	}
	var added []string
	for _, l := range lines(after) {
		f := strings.Fields(l)
		if len(f) <= 4 {
			continue
		}
		if old[f[4]] > 0 {
			old[f[4]]--
			continue
		}
		added = append(added, f[4])
	}
	return added
}

// TestRunWithoutMountNamespace is runc's host-mntns.bats: a config without
// a mount namespace gets its mounts, devices and masks made in the mount
// namespace hull runs in (here the test's private one) and is chrooted
// into its rootfs, as runc does (masked and read-only paths are refused
// then, as by runc: TestRunWithoutMountNamespaceMasks). With hull's old "chroot only" the
// container had no /proc, no /dev/null and no /dev/ptmx (a terminal could
// not be set up). The createRuntime hook runs once. Every mount made is
// under the rootfs, and (runc's behaviour) they stay there after the
// container is gone; the namespace, and they with it, ends with the test's
// shell.
//
// "stacked": a cgroup hierarchy mounted twice on one place (as in a cgroup
// namespace's remount on top of the host's) was bound twice into the
// container, the second bind on the first one's root, the container's
// cgroup directory: that directory could then not be removed, and run
// failed at the end with "device or resource busy".
func TestRunWithoutMountNamespace(t *testing.T) {
	for _, stacked := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "stacked-cgroup-hierarchy"}[stacked]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stack := ""
			if stacked {
				hier := v1Hierarchy()
				if hier == "" {
					t.Skip("no cgroup v1 hierarchy under /sys/fs/cgroup to mount twice (a cgroup2-only host mounts cgroup2 itself)")
				}
				stack = fmt.Sprintf("mount --bind %q %q || exit 97", hier, hier)
			}
			e := newEnv(t)
			hookOut := filepath.Join(e.base, "hook.out")
			bundle := e.newBundle(all(
				withoutNamespace(specs.MountNamespace),
				func(s *specs.Spec) {
					// runc refuses them without a mount namespace.
					s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
					s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo ran >> " + hookOut}}}}
				},
				withShell(`test -c /dev/null && echo NULL=yes
test -e /dev/ptmx && echo PTMX=yes
grep -q ' /dev/pts ' /proc/self/mountinfo && echo PTS=yes
test -d /proc/self && echo PROC=yes
test -x /opt/hullbin/hullprobe && echo CHROOT=yes
true`),
			))
			id := e.newID()
			rootfs := filepath.Join(bundle, "rootfs")
			r := runInPrivateMountNS(t, e, `
`+stack+`
cat /proc/self/mountinfo > "$BASE/before"
"$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID" > "$BASE/out"; rc=$?
cat /proc/self/mountinfo > "$BASE/after"
exit $rc`, "BASE="+e.base, "BUNDLE="+bundle, "ID="+id)
			if r.Code == 97 {
				t.Fatalf("stacking the cgroup hierarchy failed: %v", r)
			}
			if r.Code != 0 {
				t.Fatalf("run without a mount namespace: %v", r)
			}
			read := func(n string) string {
				b, err := os.ReadFile(filepath.Join(e.base, n))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			got := kv(read("out"))
			for _, k := range []string{"NULL", "PTMX", "PTS", "PROC", "CHROOT"} {
				if got[k] != "yes" {
					t.Errorf("%s = %q in the container, want yes (output %q)", k, got[k], read("out"))
				}
			}
			if h := read("hook.out"); h != "ran\n" {
				t.Errorf("createRuntime hook output %q, want one run", h)
			}
			added := newMounts(read("before"), read("after"))
			if len(added) == 0 {
				t.Errorf("no mount was made in the mount namespace hull ran in")
			}
			for _, p := range added {
				if !under(p, rootfs) {
					t.Errorf("mount %s made outside the rootfs %s", p, rootfs)
				}
			}
		})
	}
}

// v1Hierarchy is a cgroup v1 hierarchy's mount point under /sys/fs/cgroup,
// or "".
func v1Hierarchy() string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	for _, l := range lines(string(b)) {
		pre, post, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) > 4 && len(g) > 0 && g[0] == "cgroup" && strings.HasPrefix(f[4], "/sys/fs/cgroup/") {
			return f[4]
		}
	}
	return ""
}

// TestRunWithoutMountNamespaceMasks: masked or read-only paths without a
// mount namespace are refused with runc's message, before anything is
// made (the leftover checker sees no state, cgroup or mount).
func TestRunWithoutMountNamespaceMasks(t *testing.T) {
	t.Parallel()
	for _, which := range []string{"maskedPaths", "readonlyPaths"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(all(withoutNamespace(specs.MountNamespace), withArgs("true"), func(s *specs.Spec) {
				s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
				if which == "maskedPaths" {
					s.Linux.MaskedPaths = []string{"/proc/keys"}
				} else {
					s.Linux.ReadonlyPaths = []string{"/proc/sys"}
				}
			}))
			id := e.newID()
			r := runInPrivateMountNS(t, e, `"$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID"`, "BUNDLE="+bundle, "ID="+id)
			if r.Code == 0 || !strings.Contains(r.Stderr, "unable to restrict sys entries without a private MNT namespace") {
				t.Fatalf("run with %s and no mount namespace: %v, want runc's refusal", which, r)
			}
			e.assertNotExist(id)
		})
	}
}
