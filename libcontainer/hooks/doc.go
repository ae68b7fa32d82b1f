// Package hooks runs the OCI hooks of config.json, each with the
// container's state on stdin, with runc's error texts. The runner belongs
// to no side: the parent runs prestart, createRuntime, poststart and
// poststop hooks, the init runs createContainer (in the container's
// namespaces, before the root switch) and startContainer (right before
// execve) hooks.
package hooks
