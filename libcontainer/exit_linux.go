package libcontainer

// ShimLockFile is the file hull-shim keeps in a container's state directory
// for as long as it watches the container: it holds an exclusive flock on it
// and releases it only once the init's exit is recorded in state.json (or
// the shim died). `hull wait` takes a shared flock on it to sleep until then.
// cmd/hull-shim (which must not link this package: it is small and has no
// cgo) spells the same name; keep both in step.
const ShimLockFile = "shim.lock"
