package main

import (
	"fmt"
	"html"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func machineInfo(b *bench) [][2]string {
	out := func(name string, args ...string) string {
		o, err := exec.Command(name, args...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(o))
	}
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, cpu, _ = strings.Cut(l, ":")
				cpu = strings.TrimSpace(cpu)
				break
			}
		}
	}
	mem := procMeminfo("MemTotal")
	cg := "?"
	ms := mountsOf("cgroup", "cgroup2")
	v1, v2 := 0, 0
	for _, m := range ms {
		if m.fstype == "cgroup" {
			v1++
		} else {
			v2++
		}
	}
	switch {
	case v1 > 0 && v2 > 0:
		cg = fmt.Sprintf("hybrid (%d v1 hierarchies, cgroup2 at /sys/fs/cgroup/unified)", v1)
	case v1 > 0:
		cg = "v1"
	case v2 > 0:
		cg = "unified (v2)"
	}
	first := func(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
	hullV := strings.ReplaceAll(b.rts[0].version, "\n", ", ")
	return [][2]string{
		{"date", time.Now().UTC().Format("2006-01-02 15:04 UTC")},
		{"nproc", out("nproc")},
		{"CPU", cpu},
		{"memory", fmt.Sprintf("%.1f GiB", float64(mem)/(1<<20))},
		{"kernel", out("uname", "-r")},
		{"distribution", first(strings.TrimPrefix(out("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"), ""))},
		{"cgroups", cg},
		{"hull", hullV + " (" + hullWhere(b.cfg) + ")"},
		{"hull source", gitState(b.cfg.repo)},
		{"runc", strings.ReplaceAll(b.rts[1].version, "\n", ", ") + " (" + b.cfg.runc + ")"},
		{"crun", first(b.rts[2].version) + " (" + b.cfg.crun + ")"},
		{"bench built with", runtime.Version()},
	}
}

// gitState tells which revision of hull's tree was measured, and whether
// the tree had changes not committed.
func gitState(repo string) string {
	rev, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "? (not a git tree)"
	}
	s := strings.TrimSpace(string(rev))
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	st, _ := exec.Command("git", "-C", repo, "status", "--porcelain").Output()
	mod, untracked := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(string(st)), "\n") {
		switch {
		case l == "":
		case strings.HasPrefix(l, "??"):
			untracked++
		default:
			mod++
		}
	}
	if mod+untracked > 0 {
		s += fmt.Sprintf(" + uncommitted: %d modified, %d untracked paths (bin/hull is built from the work tree as it was)", mod, untracked)
	}
	return s
}

func procMeminfo(key string) int64 {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			var n int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &n)
			return n
		}
	}
	return 0
}

var labels = map[string]string{
	"hull": "hull", "runc": "runc", "crun": "crun", "crun-nocg": "crun, no cgroups",
}

func (b *bench) cell(rw *row, key string) string {
	if why, ok := rw.skip[key]; ok {
		if v, ok := rw.value(key); ok {
			return fmtVal(v, rw.unit) + " (" + why + ")"
		}
		if rw.fails[key] > 0 {
			return fmt.Sprintf("**FAILED** ×%d (%s)", rw.fails[key], why)
		}
		return "n/a (" + why + ")"
	}
	v, ok := rw.value(key)
	s := "—"
	if ok {
		s = fmtVal(v, rw.unit)
	}
	if rw.fails[key] > 0 {
		s += fmt.Sprintf(" (**%d failed**)", rw.fails[key])
	}
	return s
}

func ratio(rw *row, a, c string) string {
	if rw.noRatio {
		return "—"
	}
	x, ok1 := rw.value(a)
	y, ok2 := rw.value(c)
	if !ok1 || !ok2 || y == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x/y)
}

func (b *bench) resultsMarkdown() string {
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	w("# hull vs runc vs crun\n\n")
	w("Made by `make bench` (bench/run.sh → bench/*.go). Medians; every sequential scenario runs the runtimes interleaved, the order rotating each round (hull runc crun crun-nocg, runc crun crun-nocg hull, …), after %d untimed warm-up rounds. Times are from fork to reap of the runtime command, taken by a Go program (no shell in between).\n\n", warmup)
	w("| machine | |\n|---|---|\n")
	for _, kv := range b.machine {
		w("| %s | %s |\n", kv[0], strings.ReplaceAll(kv[1], "|", "\\|"))
	}
	w("| load average before / after | %s / %s |\n", b.loadBefore, b.loadAfter)
	w("| bench wall time (scenarios) | %.0f s |\n\n", b.elapsed.Seconds())

	w("## Results (medians)\n\n")
	w("| scenario | hull | runc | crun | crun, no cgroups | hull/crun | hull/runc | hull/crun, no cgroups |\n")
	w("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, rw := range b.rows {
		name := rw.name
		if rw.total {
			name += " (sum)"
		}
		w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			b.cell(rw, "hull"), b.cell(rw, "runc"), b.cell(rw, "crun"), b.cell(rw, "crun-nocg"),
			ratio(rw, "hull", "crun"), ratio(rw, "hull", "runc"), ratio(rw, "hull", "crun-nocg"))
	}
	w("\nRatios below 1 mean hull is faster (or smaller).\n\n")

	w("### Spread: p10 / median / p90 (n)\n\n")
	w("| scenario | hull | runc | crun | crun, no cgroups |\n|---|--:|--:|--:|--:|\n")
	for _, rw := range b.rows {
		if rw.total || rw.unit == "" {
			continue
		}
		w("| %s |", rw.name)
		for _, k := range []string{"hull", "runc", "crun", "crun-nocg"} {
			v := rw.vals[k]
			if len(v) == 0 {
				w(" — |")
				continue
			}
			w(" %s / %s / %s (%d) |", fmtNum(quantile(v, 0.1)), fmtNum(quantile(v, 0.5)), fmtNum(quantile(v, 0.9)), len(v))
		}
		w("\n")
	}

	failures := false
	for _, rw := range b.rows {
		for _, k := range []string{"hull", "runc", "crun", "crun-nocg"} {
			if rw.fails[k] > 0 {
				if !failures {
					w("\n## Failures\n\n")
					failures = true
				}
				w("- **%s**, %s: %d failed; first errors:\n", k, rw.name, rw.fails[k])
				for _, e := range rw.errs[k] {
					w("  - `%s`\n", strings.ReplaceAll(e, "`", "'"))
				}
			}
		}
	}
	if !failures {
		w("\nNo runtime failed any scenario.\n")
	}

	w("\n## Memory details\n\n")
	for _, k := range []string{"hull", "runc", "crun", "crun-nocg"} {
		if n, ok := b.memInfo[k]; ok {
			w("- %s: %s\n", labels[k], n)
		}
	}
	for _, n := range b.notes {
		w("- %s\n", n)
	}
	if b.cfg.shimIdle > 0 {
		w("\nShims (what stays resident per running container next to it): hull-shim and conmon side by side, 500 ms after their container started and again after %v; containerd's shim once, after 500 ms:\n\n", b.cfg.shimIdle)
	} else {
		w("\nShims (what stays resident per running container next to it; each measured once, 500 ms after its container started):\n\n")
	}
	for _, sh := range b.shims {
		w("- %s\n", sh)
	}

	w("\n## Caveats: read before comparing\n\n")
	if h := b.rts[0]; !h.cgroups {
		w("- **hull does not create cgroups yet** (probed: its container's /proc/PID/cgroup shows none of its own). runc and crun put every container into a cgroup in each hierarchy (row \"cgroup hierarchies\": mkdir, the devices deny-all rule, cgroup.procs writes; runc also the cgroup2 one), and `delete` removes them. hull does none of that, so part of its lead is work it skips. The column *crun, no cgroups* (`crun --cgroup-manager=disabled`) is the like-for-like comparison; runc 1.1.5 has no such switch, so runc's figures always include cgroup work.\n")
	} else {
		w("- **This hull build creates cgroups** (probed: each container is in a cgroup of its own in %d hierarchies; runc: %d, crun: %d), so all three do cgroup work here. (hull's committed code did not, when this bench was written: check the \"hull source\" line above for what was built.) The column *crun, no cgroups* (`crun --cgroup-manager=disabled`) shows what cgroup work costs crun; runc 1.1.5 has no such switch.\n", h.cgroupsMade, b.rts[1].cgroupsMade, b.rts[2].cgroupsMade)
	}
	w("- crun 1.8.1 refuses hybrid hosts (\"cgroups in hybrid mode not supported\"), so it runs in a private mount namespace (`unshare -m --propagation private`) where /sys/fs/cgroup/unified is covered by a tmpfs (crun then sees a v1 host) and our own memory cgroup is bind-mounted over /sys/fs/cgroup/memory, so that crun's relative cgroupsPath lands under our cgroup as runc's does. Helper script: `%s`. crun is forked from a thread that joined that namespace (setns), so no extra exec is timed.\n", strings.ReplaceAll(b.nsScript(), "`", "'"))
	w("- runc 1.1.5 as root protects its binary with a read-only bind mount (\"bindfd\"; the init's exe shows as `/`), not with a memfd copy, so no ~10 MB copy is charged to the container here (later runc releases copy again).\n")
	w("- The bundle: runc's default spec (as `hull spec` makes it) with pid, ipc, uts, mount and network namespaces, `terminal: false`, a read-only busybox-static rootfs shared by absolute path, the default masked and read-only paths, the 3 default capabilities, no_new_privs, the devices deny-all rule, no seccomp, no /sys/fs/cgroup mount, ociVersion 1.0.2 (crun 1.8.1 refuses newer), `linux.cgroupsPath` = `%s/<id>` (relative). stdin and stdout are /dev/null.\n", b.cgParent)
	w("- State dirs (`--root`) are on tmpfs (/dev/shm), as /run is on a normal host; bundles are on disk in /tmp (page cache).\n")
	w("- The bench is the child subreaper: container inits become its children and are reaped at once (as a shim would), and `delete` in scenario 2 deletes a stopped container.\n")
	w("- 2 shared cores: other work on the machine adds noise; the interleaving spreads it over all runtimes, the spread table shows it.\n")

	w("\n## Exact commands\n\n")
	w("Each runtime gets `--root /dev/shm/hullbench-PID/<runtime>` (and crun-nocg `--cgroup-manager=disabled`), with the bundle dir as cwd:\n\n")
	w("1. `<rt> run --bundle B <id>` (config args `true`), %d times per runtime.\n", b.cfg.runs)
	w("2. `<rt> create --bundle B --pid-file B/pid <id>`; `<rt> start <id>`; wait for the init to exit (untimed); `<rt> delete <id>`; %d cycles.\n", b.cfg.cycles)
	w("3. container running `sleep 1000` (create + start), then `<rt> exec <id> true` %d times.\n", b.cfg.execs)
	w("4. N goroutines (N = %s), released together: `create` + `start` each (process `sleep 1000`); then N `delete --force` together; %d repetitions.\n", intsList(b.cfg.par), b.cfg.parReps)
	w("5. `/usr/bin/time -f %%M <rt> create …` of a `sleep 1000` container, and `/usr/bin/time -f %%M <rt> run …` of a `true` one (peak RSS of the runtime process and the children it waited for; not wait4 rusage from the Go bench, which a vforked child inherits the bench's own high-water mark into); after 300 ms the init's Rss and Pss (smaps_rollup, which walks the page tables: status's VmRSS lags before Linux 6.2) and Threads, and memory.usage_in_bytes (memory.current on cgroup2) of the container's memory cgroup; %d repetitions.\n", b.cfg.memReps)
	w("\nCleanup: ")
	w("%s.\n", strings.Join(b.cleaned, "; "))
	return s.String()
}

func (b *bench) nsScript() string {
	if b.ns == nil {
		return ""
	}
	return "unshare -m --propagation private sh -c '" + b.ns.script + "'"
}

func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func intsList(v []int) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
}

// svg draws the medians as horizontal bars, one group per row, each group
// scaled to its own largest value.
func (b *bench) svg() string {
	keys := []string{"hull", "runc", "crun", "crun-nocg"}
	colors := map[string]string{"hull": "#2b7bb9", "runc": "#d9822b", "crun": "#3a9d5d", "crun-nocg": "#93c9a4"}
	var rows []*row
	for _, rw := range b.rows {
		if rw.chart {
			rows = append(rows, rw)
		}
	}
	const (
		width  = 960
		left   = 150
		barW   = 620
		barH   = 13
		gap    = 2
		header = 70
	)
	groupH := len(keys)*(barH+gap) + 26
	height := header + len(rows)*groupH + 20
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="10" y="22" font-size="16" font-weight="bold">hull vs runc vs crun: medians (each group scaled to its largest value; shorter is better)</text>` + "\n")
	x := 10
	for _, k := range keys {
		w(`<rect x="%d" y="36" width="12" height="12" fill="%s"/><text x="%d" y="46">%s</text>`+"\n", x, colors[k], x+16, html.EscapeString(labels[k]))
		x += 40 + 8*len(labels[k])
	}
	cg := "hull creates no cgroups yet; runc and crun do"
	if b.rts[0].cgroups {
		cg = "this hull build creates cgroups, as runc and crun do"
	}
	w(`<text x="10" y="62" fill="#555">%s ("crun, no cgroups" = --cgroup-manager=disabled). %s</text>`+"\n", html.EscapeString(cg), html.EscapeString(b.machineLine()))
	y := header
	for _, rw := range rows {
		max := 0.0
		for _, k := range keys {
			if v, ok := rw.value(k); ok && v > max {
				max = v
			}
		}
		w(`<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y+12, html.EscapeString(strings.ReplaceAll(rw.name, "`", "")))
		y += 18
		for _, k := range keys {
			w(`<text x="%d" y="%d" text-anchor="end" fill="#333">%s</text>`, left-6, y+barH-2, html.EscapeString(labels[k]))
			v, ok := rw.value(k)
			switch {
			case ok && max > 0:
				bw := int(float64(barW) * v / max)
				if bw < 1 {
					bw = 1
				}
				w(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`, left, y, bw, barH, colors[k])
				label := fmtVal(v, rw.unit)
				if rw.fails[k] > 0 {
					label += fmt.Sprintf(" (%d failed)", rw.fails[k])
				}
				w(`<text x="%d" y="%d">%s</text>`, left+bw+5, y+barH-2, html.EscapeString(label))
			default:
				why := "n/a"
				if r, ok := rw.skip[k]; ok {
					why = r
				} else if rw.fails[k] > 0 {
					why = "FAILED"
				}
				w(`<text x="%d" y="%d" fill="#a00">%s</text>`, left+5, y+barH-2, html.EscapeString(why))
			}
			w("\n")
			y += barH + gap
		}
		y += 8
	}
	w("</svg>\n")
	return s.String()
}

func (b *bench) machineLine() string {
	m := map[string]string{}
	for _, kv := range b.machine {
		m[kv[0]] = kv[1]
	}
	return fmt.Sprintf("%s cores, kernel %s", m["nproc"], m["kernel"])
}

// hullWhere names the hull binary measured: an installed copy of the
// build (bench/run.sh) or the build itself.
func hullWhere(c config) string {
	if c.hullFrom != "" {
		return c.hull + ", installed from " + c.hullFrom
	}
	return c.hull
}
