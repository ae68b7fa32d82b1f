package libcontainer

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var procNSUser = regexp.MustCompile(`^/proc/([0-9]+)/(?:task/[0-9]+/)?ns/user$`)

// joinedUserNSRoot is the host uid and gid of root in the user namespace
// the config joins, when its path is a process's (/proc/PID/ns/user): that
// process's uid_map and gid_map say it. As runc, which reads a joined
// namespace's mappings, so that root in it can open what the runtime gives
// it (exec.fifo). ok is false when the mappings cannot be read.
func joinedUserNSRoot(spec *specs.Spec) (uid, gid int, ok bool) {
	var path string
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			path = ns.Path
		}
	}
	m := procNSUser.FindStringSubmatch(filepath.Clean(path))
	if m == nil {
		return 0, 0, false
	}
	dir := filepath.Dir(filepath.Dir(filepath.Clean(path)))
	u, uok := mapRoot(filepath.Join(dir, "uid_map"))
	g, gok := mapRoot(filepath.Join(dir, "gid_map"))
	return u, g, uok && gok
}

// mapRoot reads the host id of id 0 from a /proc/PID/{u,g}id_map file.
func mapRoot(file string) (int, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(fs[0], 10, 32)
		out, err2 := strconv.ParseUint(fs[1], 10, 32)
		n, err3 := strconv.ParseUint(fs[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if in == 0 && n > 0 {
			return int(out), true
		}
	}
	return 0, false
}
