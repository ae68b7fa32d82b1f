package procenv

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookPath finds the executable for args[0] in root, with the PATH of
// the process's own environment. The error texts are os/exec's, which
// podman and CRI-O map to exit codes 126/127.
func LookPath(file string, env []string, root Root) (string, error) {
	if strings.Contains(file, "/") {
		if err := findExecutable(root, file); err != nil {
			return "", &execError{file, err}
		}
		return file, nil
	}
	path := defaultPath
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	var firstErr error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		err := findExecutable(root, p)
		if err == nil {
			return p, nil
		}
		if firstErr == nil && errors.Is(err, fs.ErrPermission) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", &execError{file, firstErr}
	}
	return "", &execError{file, errNotFound}
}

var errNotFound = errors.New("executable file not found in $PATH")

type execError struct {
	name string
	err  error
}

func (e *execError) Error() string { return fmt.Sprintf("exec: %q: %v", e.name, e.err) }
func (e *execError) Unwrap() error { return e.err }

func findExecutable(root Root, file string) error {
	fi, err := root.Stat(file)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory: %w", file, fs.ErrPermission)
	}
	if fi.Mode()&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}
