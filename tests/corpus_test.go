package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenConfigs mutates a good config.json (as a generic JSON tree) into
// a corpus of broken ones: wrong types, escaping paths, absurd values.
// Each must fail create with exit 1 and one line of error, and leave
// nothing behind.
var brokenConfigs = map[string]func(c map[string]any){
	"ociVersion-number":      func(c map[string]any) { c["ociVersion"] = 5 },
	"ociVersion-empty":       func(c map[string]any) { c["ociVersion"] = "" },
	"ociVersion-2":           func(c map[string]any) { c["ociVersion"] = "2.0.0" },
	"root-string":            func(c map[string]any) { c["root"] = "rootfs" },
	"root-path-number":       func(c map[string]any) { m(c, "root")["path"] = 5 },
	"root-path-empty":        func(c map[string]any) { m(c, "root")["path"] = "" },
	"root-path-missing":      func(c map[string]any) { m(c, "root")["path"] = "nope" },
	"root-path-escape":       func(c map[string]any) { m(c, "root")["path"] = "../../etc" },
	"root-path-file":         func(c map[string]any) { m(c, "root")["path"] = "config.json" },
	"process-string":         func(c map[string]any) { c["process"] = "sh" },
	"process-missing":        func(c map[string]any) { delete(c, "process") },
	"args-string":            func(c map[string]any) { m(c, "process")["args"] = "sh" },
	"args-empty":             func(c map[string]any) { m(c, "process")["args"] = []any{} },
	"args-number":            func(c map[string]any) { m(c, "process")["args"] = []any{5} },
	"args-empty-string":      func(c map[string]any) { m(c, "process")["args"] = []any{""} },
	"args-not-found":         func(c map[string]any) { m(c, "process")["args"] = []any{"no-such-binary"} },
	"args-not-executable":    func(c map[string]any) { m(c, "process")["args"] = []any{"/etc/passwd"} },
	"args-directory":         func(c map[string]any) { m(c, "process")["args"] = []any{"/tmp"} },
	"cwd-empty":              func(c map[string]any) { m(c, "process")["cwd"] = "" },
	"cwd-relative":           func(c map[string]any) { m(c, "process")["cwd"] = "tmp" },
	"cwd-number":             func(c map[string]any) { m(c, "process")["cwd"] = 1 },
	"cwd-is-file":            func(c map[string]any) { m(c, "process")["cwd"] = "/etc/passwd" },
	"env-string":             func(c map[string]any) { m(c, "process")["env"] = "A=B" },
	"env-no-equals":          func(c map[string]any) { m(c, "process")["env"] = []any{"NOEQUALS"} },
	"uid-negative":           func(c map[string]any) { m(c, "process", "user")["uid"] = -1 },
	"uid-string":             func(c map[string]any) { m(c, "process", "user")["uid"] = "root" },
	"gids-string":            func(c map[string]any) { m(c, "process", "user")["additionalGids"] = "1" },
	"umask-string":           func(c map[string]any) { m(c, "process", "user")["umask"] = "022" },
	"rlimit-unknown":         func(c map[string]any) { m(c, "process")["rlimits"] = []any{rl("RLIMIT_FOO", 1, 1)} },
	"rlimit-soft-above-hard": func(c map[string]any) { m(c, "process")["rlimits"] = []any{rl("RLIMIT_NOFILE", 10, 5)} },
	"rlimit-duplicate": func(c map[string]any) {
		m(c, "process")["rlimits"] = []any{rl("RLIMIT_NOFILE", 5, 5), rl("RLIMIT_NOFILE", 5, 5)}
	},
	"rlimit-negative": func(c map[string]any) { m(c, "process")["rlimits"] = []any{rl("RLIMIT_NOFILE", -1, 5)} },
	"caps-string":     func(c map[string]any) { m(c, "process", "capabilities")["bounding"] = "CAP_KILL" },
	"caps-host-lacks": func(c map[string]any) { m(c, "process", "capabilities")["bounding"] = []any{"CAP_SYS_RESOURCE"} },
	"sched-policy":    func(c map[string]any) { m(c, "process")["scheduler"] = map[string]any{"policy": "SCHED_FOO"} },
	"sched-nice": func(c map[string]any) {
		m(c, "process")["scheduler"] = map[string]any{"policy": "SCHED_OTHER", "nice": 50}
	},
	"sched-rt-no-prio": func(c map[string]any) { m(c, "process")["scheduler"] = map[string]any{"policy": "SCHED_FIFO"} },
	"sched-flag": func(c map[string]any) {
		m(c, "process")["scheduler"] = map[string]any{"policy": "SCHED_OTHER", "flags": []any{"X"}}
	},
	"ioprio-class": func(c map[string]any) { m(c, "process")["ioPriority"] = map[string]any{"class": "X", "priority": 1} },
	"ioprio-priority": func(c map[string]any) {
		m(c, "process")["ioPriority"] = map[string]any{"class": "IOPRIO_CLASS_BE", "priority": 9}
	},
	"oom-string":         func(c map[string]any) { m(c, "process")["oomScoreAdj"] = "high" },
	"apparmor":           func(c map[string]any) { m(c, "process")["apparmorProfile"] = "hull-test" },
	"selinux":            func(c map[string]any) { m(c, "process")["selinuxLabel"] = "system_u:system_r:container_t:s0" },
	"cpu-affinity":       func(c map[string]any) { m(c, "process")["execCPUAffinity"] = map[string]any{"initial": "3-1"} },
	"linux-string":       func(c map[string]any) { c["linux"] = "x" },
	"linux-missing":      func(c map[string]any) { delete(c, "linux") },
	"ns-string":          func(c map[string]any) { m(c, "linux")["namespaces"] = "pid" },
	"ns-unknown":         func(c map[string]any) { addNS(c, map[string]any{"type": "foo"}) },
	"ns-duplicate":       func(c map[string]any) { addNS(c, map[string]any{"type": "pid"}) },
	"ns-path-relative":   func(c map[string]any) { setNS(c, "network", "proc/self/ns/net") },
	"ns-path-missing":    func(c map[string]any) { setNS(c, "network", "/no/such/ns") },
	"ns-path-not-ns":     func(c map[string]any) { setNS(c, "network", "/etc/hostname") },
	"ns-path-wrong-type": func(c map[string]any) { setNS(c, "network", "/proc/self/ns/uts") },
	"userns-no-maps":     func(c map[string]any) { addNS(c, map[string]any{"type": "user"}) },
	"maps-no-userns": func(c map[string]any) {
		m(c, "linux")["uidMappings"] = []any{map[string]any{"containerID": 0, "hostID": 1000, "size": 1}}
	},
	"hostname-no-uts":   func(c map[string]any) { dropNS(c, "uts"); c["hostname"] = "x" },
	"domainname-no-uts": func(c map[string]any) { dropNS(c, "uts"); c["domainname"] = "x" },
	"timeoffsets-no-ns": func(c map[string]any) {
		m(c, "linux")["timeOffsets"] = map[string]any{"monotonic": map[string]any{"secs": 1}}
	},
	"timeoffsets-clock": func(c map[string]any) {
		addNS(c, map[string]any{"type": "time"})
		m(c, "linux")["timeOffsets"] = map[string]any{"realtime": map[string]any{"secs": 1}}
	},
	"mounts-string":          func(c map[string]any) { c["mounts"] = "x" },
	"mount-no-destination":   func(c map[string]any) { addMount(c, map[string]any{"type": "tmpfs", "source": "tmpfs"}) },
	"mount-bind-missing-src": func(c map[string]any) { addMount(c, bind("/no/such/source", "/x")) },
	"mount-bind-no-src":      func(c map[string]any) { addMount(c, map[string]any{"destination": "/x", "type": "bind"}) },
	"mount-option-comma": func(c map[string]any) {
		addMount(c, map[string]any{"destination": "/x", "type": "tmpfs", "source": "t", "options": []any{"ro,nosuid"}})
	},
	"mount-option-empty": func(c map[string]any) {
		addMount(c, map[string]any{"destination": "/x", "type": "tmpfs", "source": "t", "options": []any{""}})
	},
	"mount-idmap":    func(c map[string]any) { addMount(c, mapWith(bind("/tmp", "/x"), "options", []any{"rbind", "idmap"})) },
	"mount-type-num": func(c map[string]any) { addMount(c, map[string]any{"destination": "/x", "type": 5}) },
	"mount-bad-fs": func(c map[string]any) {
		addMount(c, map[string]any{"destination": "/x", "type": "nosuchfs", "source": "x"})
	},
	"mount-tmpfs-opt": func(c map[string]any) {
		addMount(c, map[string]any{"destination": "/x", "type": "tmpfs", "source": "t", "options": []any{"size=banana"}})
	},
	"device-type": func(c map[string]any) {
		m(c, "linux")["devices"] = []any{map[string]any{"path": "/dev/x", "type": "z", "major": 1, "minor": 3}}
	},
	"device-relative": func(c map[string]any) {
		m(c, "linux")["devices"] = []any{map[string]any{"path": "dev/x", "type": "c", "major": 1, "minor": 3}}
	},
	"masked-relative":   func(c map[string]any) { m(c, "linux")["maskedPaths"] = []any{"proc/kcore"} },
	"readonly-relative": func(c map[string]any) { m(c, "linux")["readonlyPaths"] = []any{"proc/sys"} },
	"propagation":       func(c map[string]any) { m(c, "linux")["rootfsPropagation"] = "sideways" },
	"sysctl-host":       func(c map[string]any) { m(c, "linux")["sysctl"] = map[string]any{"kernel.panic": "1"} },
	"sysctl-dotdot":     func(c map[string]any) { m(c, "linux")["sysctl"] = map[string]any{"net/../../x": "1"} },
	"sysctl-net-no-ns": func(c map[string]any) {
		dropNS(c, "network")
		m(c, "linux")["sysctl"] = map[string]any{"net.ipv4.ip_forward": "1"}
	},
	"sysctl-number":     func(c map[string]any) { m(c, "linux")["sysctl"] = map[string]any{"kernel.shmmax": 5} },
	"memory-negative":   func(c map[string]any) { res(c)["memory"] = map[string]any{"limit": -5} },
	"memory-string":     func(c map[string]any) { res(c)["memory"] = map[string]any{"limit": "1g"} },
	"cpuset-outside":    func(c map[string]any) { res(c)["cpu"] = map[string]any{"cpus": "999"} },
	"cpuset-garbage":    func(c map[string]any) { res(c)["cpu"] = map[string]any{"cpus": "a-b"} },
	"cpu-shares-string": func(c map[string]any) { res(c)["cpu"] = map[string]any{"shares": "x"} },
	"pids-string":       func(c map[string]any) { res(c)["pids"] = map[string]any{"limit": "x"} },
	"devices-rule-type": func(c map[string]any) {
		res(c)["devices"] = []any{map[string]any{"allow": true, "type": "z", "access": "rwm"}}
	},
	"devices-rule-major-negative": func(c map[string]any) {
		res(c)["devices"] = []any{map[string]any{"allow": true, "type": "c", "major": -5, "minor": 3, "access": "rwm"}}
	},
	"device-major-negative": func(c map[string]any) {
		m(c, "linux")["devices"] = []any{map[string]any{"path": "/dev/x", "type": "c", "major": -1, "minor": 3}}
	},
	"device-major-huge": func(c map[string]any) {
		m(c, "linux")["devices"] = []any{map[string]any{"path": "/dev/x", "type": "c", "major": 1 << 40, "minor": 3}}
	},
	"device-minor-huge": func(c map[string]any) {
		m(c, "linux")["devices"] = []any{map[string]any{"path": "/dev/x", "type": "b", "major": 8, "minor": 1 << 33}}
	},
	"devices-rule-access": func(c map[string]any) {
		res(c)["devices"] = []any{map[string]any{"allow": true, "type": "c", "access": "x"}}
	},
	"blkio-weight":       func(c map[string]any) { res(c)["blockIO"] = map[string]any{"weight": 5000} },
	"unified-dotdot":     func(c map[string]any) { res(c)["unified"] = map[string]any{"../cgroup.procs": "1"} },
	"unified-unknown":    func(c map[string]any) { res(c)["unified"] = map[string]any{"nosuch.knob": "1"} },
	"network-classid":    func(c map[string]any) { res(c)["network"] = map[string]any{"classID": 1} },
	"cgroupspath-dotdot": func(c map[string]any) { m(c, "linux")["cgroupsPath"] = "../../escape" },
	"seccomp-default":    func(c map[string]any) { m(c, "linux")["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_FOO"} },
	"seccomp-arch":       func(c map[string]any) { seccomp(c)["architectures"] = []any{"SCMP_ARCH_FOO"} },
	"seccomp-action": func(c map[string]any) {
		seccomp(c)["syscalls"] = []any{map[string]any{"names": []any{"mkdir"}, "action": "X"}}
	},
	"seccomp-op": func(c map[string]any) { seccomp(c)["syscalls"] = []any{sysArg("SCMP_CMP_FOO")} },
	"seccomp-notify-nopath": func(c map[string]any) {
		seccomp(c)["syscalls"] = []any{map[string]any{"names": []any{"getppid"}, "action": "SCMP_ACT_NOTIFY"}}
	},
	"seccomp-flag": func(c map[string]any) { seccomp(c)["flags"] = []any{"SECCOMP_FILTER_FLAG_FOO"} },
	"seccomp-no-names": func(c map[string]any) {
		seccomp(c)["syscalls"] = []any{map[string]any{"names": []any{}, "action": "SCMP_ACT_ERRNO"}}
	},
	"hook-relative": func(c map[string]any) {
		c["hooks"] = map[string]any{"prestart": []any{map[string]any{"path": "bin/true"}}}
	},
	"hook-missing": func(c map[string]any) {
		c["hooks"] = map[string]any{"poststop": []any{map[string]any{"path": "/no/such/hook"}}}
	},
	"hook-not-exec": func(c map[string]any) {
		c["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": "/etc/passwd"}}}
	},
	"hook-timeout-zero": func(c map[string]any) {
		c["hooks"] = map[string]any{"poststart": []any{map[string]any{"path": "/bin/true", "timeout": 0}}}
	},
	"hook-fails": func(c map[string]any) {
		c["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": "/bin/false"}}}
	},
	"personality-domain": func(c map[string]any) { m(c, "linux")["personality"] = map[string]any{"domain": "LINUX64"} },
	"mempolicy-mode":     func(c map[string]any) { m(c, "linux")["memoryPolicy"] = map[string]any{"mode": "MPOL_FOO"} },
}

func m(c map[string]any, path ...string) map[string]any {
	cur := c
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	return cur
}
func res(c map[string]any) map[string]any { return m(c, "linux", "resources") }
func seccomp(c map[string]any) map[string]any {
	s := m(c, "linux", "seccomp")
	s["defaultAction"] = "SCMP_ACT_ALLOW"
	return s
}
func rl(t string, soft, hard int) map[string]any {
	return map[string]any{"type": t, "soft": soft, "hard": hard}
}
func bind(src, dst string) map[string]any {
	return map[string]any{"destination": dst, "type": "bind", "source": src, "options": []any{"rbind"}}
}
func mapWith(x map[string]any, k string, v any) map[string]any { x[k] = v; return x }
func sysArg(op string) map[string]any {
	return map[string]any{"names": []any{"socket"}, "action": "SCMP_ACT_ERRNO", "args": []any{map[string]any{"index": 0, "value": 1, "op": op}}}
}
func addMount(c map[string]any, mnt map[string]any) {
	ms, _ := c["mounts"].([]any)
	c["mounts"] = append(ms, mnt)
}
func addNS(c map[string]any, ns map[string]any) {
	l, _ := m(c, "linux")["namespaces"].([]any)
	m(c, "linux")["namespaces"] = append(l, ns)
}
func setNS(c map[string]any, typ, path string) {
	l, _ := m(c, "linux")["namespaces"].([]any)
	for _, n := range l {
		if nm, ok := n.(map[string]any); ok && nm["type"] == typ {
			nm["path"] = path
		}
	}
}
func dropNS(c map[string]any, typ string) {
	l, _ := m(c, "linux")["namespaces"].([]any)
	var out []any
	for _, n := range l {
		if nm, ok := n.(map[string]any); !ok || nm["type"] != typ {
			out = append(out, n)
		}
	}
	m(c, "linux")["namespaces"] = out
}

func TestBrokenBundleCorpus(t *testing.T) {
	if !isHull {
		t.Skip("the corpus checks hull's own validation; runc accepts some of these")
	}
	t.Parallel()
	if len(brokenConfigs) < 100 {
		t.Logf("corpus has %d configs", len(brokenConfigs))
	}
	for name, mutate := range brokenConfigs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(withArgs("true"))
			raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			mutate(c)
			b, _ := json.Marshal(c)
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			id := e.newID()
			r := e.rt("create", "--bundle", bundle, id)
			if r.Code != 1 {
				t.Errorf("create: exit %d, want 1 (%v)", r.Code, r)
				if r.Code == 0 {
					e.rt("delete", "--force", id)
				}
			}
			msg := strings.TrimSpace(r.Stderr)
			if msg == "" || strings.Contains(msg, "\n") && !strings.Contains(msg, "WARN") {
				t.Errorf("error is not one line: %q", r.Stderr)
			}
			if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic: runtime") {
				t.Errorf("panic: %s", msg)
			}
			if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
				t.Errorf("list -q after a failed create: %q", out)
			}
		})
	}
}
