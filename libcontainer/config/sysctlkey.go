package config

import "strings"

// A sysctl key may use '.' or '/' as its separator (sysctl(8), sysctl.d(5)):
// if the first separator is a '/', the key is the path under /proc/sys as
// it is, dots included ("net/ipv4/conf/eth0.100/forwarding"); if it is a
// '.', dots and slashes are interchanged ("net.ipv4.conf.eth0/100.forwarding"
// names the same file).

// sysctlName is the key in its dotted form, as runc's validator writes it
// (and names it in its errors): "net/ipv4/conf/eth0.100/forwarding" is
// "net.ipv4.conf.eth0/100.forwarding".
func sysctlName(key string) string {
	if i := strings.IndexAny(key, "./"); i < 0 || key[i] == '.' {
		return key
	}
	return swapDotSlash(key)
}

// SysctlPath is the key's file relative to /proc/sys: both forms above give
// "net/ipv4/conf/eth0.100/forwarding". (runc 1.5.1 writes the file named by
// the key with every '.' made a '/', its validator's rule notwithstanding:
// there such keys fail with ENOENT; crun has the same bug, containers/crun#2265.)
func SysctlPath(key string) string {
	if i := strings.IndexAny(key, "./"); i < 0 || key[i] == '/' {
		return key
	}
	return swapDotSlash(key)
}

func swapDotSlash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// validSysctlPath tells whether p (from sysctlPath) stays under /proc/sys:
// no empty, "." or ".." component.
func validSysctlPath(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}
