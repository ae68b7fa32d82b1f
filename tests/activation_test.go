package tests

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Socket activation: hull started with LISTEN_FDS=1 and a socket as fd 3
// passes it to the container at fd 3 with LISTEN_FDS=1 LISTEN_PID=1.
func TestSocketActivation(t *testing.T) {
	e := newEnv(t)
	bundle := e.newBundle(withShell(`echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; ls -l /proc/self/fd/3 | grep -o 'socket:.*'; echo hi >&3`))
	id := e.newID()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	// A pipe stands in for the socket; the container writes into it.
	cmd := exec.Command(runtimeBin, "--root", e.root, "run", "--bundle", bundle, id)
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
	out, err := cmd.Output()
	pw.Close()
	if err != nil {
		t.Fatalf("run: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "fds=1 pid=1") {
		t.Errorf("container environment: %q", out)
	}
	buf := make([]byte, 16)
	n, _ := pr.Read(buf)
	if strings.TrimSpace(string(buf[:n])) != "hi" {
		t.Errorf("fd 3 did not reach the container: read %q", buf[:n])
	}
}

// exec --cgroup puts the process in an existing sub-cgroup of the
// container's cgroup.
func TestCgroupExecSubCgroup(t *testing.T) {
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var pidsPath string
	for _, l := range lines(string(cg)) {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 && (f[1] == "pids" || f[1] == "") {
			pidsPath = f[2]
			if f[1] == "pids" {
				break
			}
		}
	}
	base := "/sys/fs/cgroup/pids"
	if _, err := os.Stat(base); err != nil {
		base = "/sys/fs/cgroup"
	}
	// The init's cgroupns hides the path from /proc/<pid>/cgroup when read
	// from a process in the container; from the host it is the full path.
	sub := base + pidsPath + "/sub"
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatalf("mkdir sub-cgroup: %v", err)
	}
	defer os.Remove(sub)
	r := e.rt("exec", "--cgroup", "pids:sub", id, "cat", "/proc/self/cgroup")
	if r.Code != 0 {
		t.Fatalf("exec --cgroup: %v", r)
	}
	if !strings.Contains(r.Stdout, "/sub") {
		t.Errorf("exec'd process not in the sub-cgroup: %q", r.Stdout)
	}
	if r := e.rt("exec", "--cgroup", "../x", id, "true"); r.Code == 0 {
		t.Errorf("exec --cgroup ../x accepted")
	}
	e.mustRT("delete", "--force", id)
}
