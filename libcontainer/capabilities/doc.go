// Package capabilities turns config.json's capability names into masks
// (Parse, on both sides), checks in the parent before create that hull
// itself can grant them (check_linux.go), and sets them in the child,
// the init, right before execve (apply_linux.go).
package capabilities
