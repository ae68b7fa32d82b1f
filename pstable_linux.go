package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// psTable runs the host's ps with args (default -ef) and keeps the header
// and the lines of pids, as runc does.
func psTable(pids []int, args []string) ([]byte, error) {
	if len(args) == 0 {
		args = []string{"-ef"}
	}
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	lines := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(lines) == 0 {
		return nil, fmt.Errorf("ps printed nothing")
	}
	col := -1
	for i, f := range strings.Fields(string(lines[0])) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("ps %s: no PID column in its output", strings.Join(args, " "))
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	var b bytes.Buffer
	b.Write(lines[0])
	b.WriteByte('\n')
	for _, l := range lines[1:] {
		f := strings.Fields(string(l))
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && want[p] {
			b.Write(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}
