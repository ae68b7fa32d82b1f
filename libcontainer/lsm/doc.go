// Package lsm handles the AppArmor profile and SELinux label of a
// container process: whether the host has them enabled (for the parent's
// validation, package config), and setting the label the process gets at
// execve, in the child, the init (Apply).
package lsm
