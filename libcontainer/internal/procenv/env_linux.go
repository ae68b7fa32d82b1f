package procenv

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PrepareEnv is what runc does to process.env before execve: duplicates
// are dropped (the last value of a key wins, at the place of its last
// occurrence), an empty HOME is dropped, and when no HOME with a value is
// left, HOME is the home directory of uid in the container's /etc/passwd,
// or "/" without an entry. A nil env stays nil (no HOME either, as runc).
// root is the container's root filesystem.
func PrepareEnv(env []string, uid int, root Root) ([]string, error) {
	if env == nil {
		return nil, nil
	}
	out := make([]string, 0, len(env)+1)
	seen := make(map[string]bool, len(env))
	homeSet := false
	for i := len(env) - 1; i >= 0; i-- {
		kv := env[i]
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("process.env[%d]: invalid environment variable %q: missing '='", i, kv)
		}
		if k == "" {
			return nil, fmt.Errorf("process.env[%d]: invalid environment variable: name cannot be empty", i)
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("process.env[%d]: invalid environment variable %q: contains nul byte (\\x00)", i, k)
		}
		if k == "HOME" {
			if v == "" {
				continue
			}
			homeSet = true
		}
		out = append(out, kv)
	}
	slices.Reverse(out)
	if !homeSet {
		out = append(out, "HOME="+passwdHome(root, etcPasswd, uid))
	}
	return out, nil
}

// etcPasswd is the container's passwd file.
const etcPasswd = "/etc/passwd"

// passwdHome is uid's home directory in the passwd file at path, "/" if
// it has no entry for uid (or no file).
func passwdHome(root Root, path string, uid int) string {
	f, err := root.Open(path)
	if err != nil {
		return "/"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(line, ":")
		if len(fields) < 6 {
			continue
		}
		if n, err := strconv.Atoi(fields[2]); err == nil && n == uid {
			return fields[5]
		}
	}
	return "/"
}
