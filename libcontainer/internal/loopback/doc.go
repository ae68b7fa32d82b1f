// Package loopback sets the "lo" link up with one netlink request: in the
// child, the init of a new network namespace; and in the parent, in the
// network namespace criu made for a restore.
package loopback
