package config

import (
	"path/filepath"
	"strings"
)

// StripRootfs makes a destination given as a host path inside the rootfs
// (rootfs/mnt/x) relative to the rootfs (/mnt/x), as runc takes it.
func StripRootfs(rootfs, dest string) string {
	rootfs = filepath.Clean(rootfs)
	d := filepath.Clean(dest)
	if rootfs == "/" || !filepath.IsAbs(rootfs) {
		return dest
	}
	if d == rootfs {
		return "/"
	}
	if strings.HasPrefix(d, rootfs+"/") {
		return strings.TrimPrefix(d, rootfs)
	}
	return dest
}
