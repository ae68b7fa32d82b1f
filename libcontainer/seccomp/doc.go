// Package seccomp turns the runtime-spec's linux.seccomp section into a
// kernel seccomp filter, the way runc does, using libseccomp.
//
// The package is split by the moment each part runs:
//
//   - Validate runs in the runtime (parent) before anything is created, so
//     a bad profile fails `hull create` with the JSON path of the mistake
//     instead of a half-built container. It also builds the filter in
//     memory (never loading it) so whatever libseccomp itself would refuse
//     is reported up front too.
//   - Load runs in the container init as the last step before execve, on
//     the locked OS thread, and installs the filter. It returns the
//     SCMP_ACT_NOTIFY listener fd when the profile has one.
//   - SendToAgent ships that fd, from the init, with the runtime-spec's
//     container-process-state message, over the connection to the agent
//     at listenerPath that the runtime made in its own mount namespace.
//   - Features describes what this libseccomp and kernel support, for
//     `hull features`.
//
// Unknown syscall names are not errors (runc's behaviour, so that one
// profile works across kernels and libseccomp versions): Validate returns
// them and Load skips them.
package seccomp
