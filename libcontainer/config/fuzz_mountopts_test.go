package config

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func FuzzParseMountOptions(f *testing.F) {
	f.Add("rbind;ro;nosuid;rprivate;size=1m")
	f.Add("rro;rnoatime;idmap")
	f.Add("rw;ro;nosuid;suid;rrelatime;ridmap;idmap;bind;mode=755")
	f.Add("rrw;rro;rnosymfollow;rsymfollow;tmpcopyup;rbind;bind;shared;rslave")
	f.Add(",")
	f.Add("a,b;ro")
	f.Add("ro;;rw")
	f.Fuzz(func(t *testing.T, s string) {
		opts := strings.Split(s, ";")
		m, err := ParseMountOptions(opts)
		// Refused exactly when an option is empty or holds a comma.
		bad := false
		for _, o := range opts {
			bad = bad || o == "" || strings.ContainsRune(o, ',')
		}
		if (err != nil) != bad {
			t.Fatalf("ParseMountOptions(%q): %v; want an error: %v", opts, err, bad)
		}
		if err != nil {
			return
		}
		// A flag is set or cleared, never both: the last option wins.
		if m.Flags&m.Clear != 0 {
			t.Fatalf("ParseMountOptions(%q): flags %#x and clear %#x share bits", opts, m.Flags, m.Clear)
		}
		// The options are a canonical list of what was parsed: parsing
		// that list again gives the same options.
		canon := formatMountOptions(m)
		m2, err := ParseMountOptions(canon)
		if err != nil {
			t.Fatalf("ParseMountOptions(%q) (from %q): %v", canon, opts, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("parse(%q) = %+v, but parse(format) = parse(%q) = %+v", opts, *m, canon, *m2)
		}
	})
}

// formatMountOptions writes m back as an option list (test only): each
// bit by the option that sets or clears it, then the rest.
func formatMountOptions(m *MountOpts) []string {
	var out []string
	names := func(table map[string]uintptr, v uintptr) {
		var l []string
		for name, bit := range table {
			if v&bit == bit && bit != 0 {
				l = append(l, name)
			}
		}
		sort.Strings(l)
		out = append(out, l...)
	}
	set, clr := map[string]uintptr{}, map[string]uintptr{}
	for name, f := range FlagOpts {
		if f.clear {
			clr[name] = f.flag
		} else {
			set[name] = f.flag
		}
	}
	names(set, m.Flags)
	names(clr, m.Clear)
	aset, aclr := map[string]uintptr{}, map[string]uintptr{}
	for name, a := range AttrOpts {
		if a.clear {
			aclr[name] = uintptr(a.attr)
		} else {
			aset[name] = uintptr(a.attr)
		}
	}
	names(aset, uintptr(m.AttrSet))
	names(aclr, uintptr(m.AttrClr))
	if m.Atime && m.AttrSet&(unix.MOUNT_ATTR_NOATIME|unix.MOUNT_ATTR_STRICTATIME) == 0 {
		out = append(out, "rrelatime") // MOUNT_ATTR_RELATIME is 0
	}
	for _, p := range m.Propagation {
		for name, v := range PropagationOpts {
			if v == p {
				out = append(out, name)
			}
		}
	}
	switch {
	case m.Recursive:
		out = append(out, "rbind")
	case m.Bind:
		out = append(out, "bind")
	}
	if m.Tmpcopyup {
		out = append(out, "tmpcopyup")
	}
	switch {
	case m.RIDMap:
		out = append(out, "ridmap")
	case m.IDMap:
		out = append(out, "idmap")
	}
	return append(out, m.Data...)
}
