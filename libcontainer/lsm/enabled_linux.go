package lsm

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// AppArmorEnabled tells whether the host runs AppArmor.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// SELinuxEnabled tells whether the host has selinuxfs mounted.
func SELinuxEnabled() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/selinux", &st) == nil && st.Type == unix.SELINUX_MAGIC
}
