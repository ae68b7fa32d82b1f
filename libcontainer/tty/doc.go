// Package tty is the parent's side of a container's terminal when hull
// itself holds it (a foreground run or exec without --console-socket):
// the console socketpair the init sends the pty master over, and the
// relay between hull's stdio and that master (raw mode, SIGWINCH). The
// init's side (the pty, /dev/console) is initproc's console_linux.go.
package tty
