// Package config loads and validates a bundle's config.json, with errors
// that name the JSON path ("config.json: process.rlimits[0].type:
// unknown rlimit"); it holds every validator (namespaces, mounts and
// their options, id-mapped mounts, rlimits, scheduler, I/O priority,
// memory policy and CPU lists, sysctl, seccomp, LSM labels, hooks), the
// default spec of `hull spec`, and the decisions read from a config
// alone (which namespaces are new or joined, the flags of a mount's
// options). It belongs to no side of the clone: the parent validates
// with it before anything is made, and the init reads its config with
// it. It is named config rather than spec because hull names its
// *specs.Spec values spec, which would shadow the package.
package config
