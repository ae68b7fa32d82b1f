// Package store keeps the on-disk state of containers: one directory per
// container under the runtime root, holding state.json and the exec fifo.
//
// Every command that changes a container holds an exclusive flock on the
// container's directory for its whole run, so concurrent commands on one
// container are serialized. A new container's directory is prepared under a
// temporary name, locked, and renamed into place with RENAME_NOREPLACE, so a
// directory named after an id always has a state.json and a lock holder (or
// is left over from a killed command, which the lock tells).
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/internal/specjson"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Phase says how far create got.
type Phase string

const (
	PhaseCreating Phase = "creating"
	PhaseCreated  Phase = "created"
)

// State is what state.json holds. It is hull's own record, not the OCI
// state (which is derived from it).
type State struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
	Phase  Phase  `json:"phase"`
	// Pid is the init process on the host; 0 until create has cloned it.
	Pid int `json:"pid"`
	// StartTime is field 22 of /proc/<pid>/stat: with it a reused pid is
	// told apart from our init.
	StartTime uint64    `json:"startTime"`
	Created   time.Time `json:"created"`
	Owner     string    `json:"owner"`
	// Config is the bundle's config.json as it was at create time: later
	// commands (exec, delete's poststop hooks) must not see later edits.
	// It is decoded when first asked for (Config.Spec).
	Config *Config `json:"config"`
	// Cgroup locates the container's cgroups, resolved at create time.
	Cgroup *cgroups.Saved `json:"cgroup,omitempty"`
	// Exit is set by hull-shim or `run` when the init's exit was seen.
	Exit *ExitStatus `json:"exit,omitempty"`
}

// Config is the spec kept in state.json. Load leaves it undecoded until a
// command asks for it: start, state, kill, delete and list mostly need
// nothing of it, or only its hooks. specjson decodes it in microseconds;
// a config specjson declines costs encoding/json's first use (its
// reflection caches: 0.5-3 ms).
type Config struct {
	raw  json.RawMessage
	spec *specs.Spec
}

// ConfigOf wraps a decoded spec.
func ConfigOf(spec *specs.Spec) *Config {
	if spec == nil {
		return nil
	}
	return &Config{spec: spec}
}

// Spec decodes the config on first use; nil for none. A config that does
// not decode is a damaged state.json.
func (c *Config) Spec() (*specs.Spec, error) {
	if c == nil {
		return nil, nil
	}
	if !c.decoded() {
		spec := new(specs.Spec)
		if err := json.Unmarshal(c.raw, spec); err != nil {
			return nil, fmt.Errorf("config in %s: %w: %w", stateFile, ErrDamaged, err)
		}
		c.spec = spec
	}
	return c.spec, nil
}

// decoded reports whether the spec is decoded, decoding it with
// specjson if it can (microseconds, against encoding/json's first use).
func (c *Config) decoded() bool {
	if c.spec == nil {
		c.spec, _ = specjson.Decode(c.raw)
	}
	return c.spec != nil
}

// Hooks returns the config's hooks; if the config is one specjson
// declines, without decoding the rest with encoding/json.
func (c *Config) Hooks() (*specs.Hooks, error) {
	if c == nil {
		return nil, nil
	}
	if c.decoded() {
		return c.spec.Hooks, nil
	}
	var h struct {
		Hooks *specs.Hooks `json:"hooks"`
	}
	if err := json.Unmarshal(c.raw, &h); err != nil {
		return nil, fmt.Errorf("config in %s: hooks: %w: %w", stateFile, ErrDamaged, err)
	}
	return h.Hooks, nil
}

// Annotations returns the config's annotations only.
func (c *Config) Annotations() (map[string]string, error) {
	if c == nil {
		return nil, nil
	}
	if c.decoded() {
		return c.spec.Annotations, nil
	}
	var a struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(c.raw, &a); err != nil {
		return nil, fmt.Errorf("config in %s: annotations: %w: %w", stateFile, ErrDamaged, err)
	}
	return a.Annotations, nil
}

// MarshalJSON writes the spec, or the bytes it was loaded from.
func (c *Config) MarshalJSON() ([]byte, error) {
	if c.spec != nil {
		if b, ok := specjson.Encode(c.spec); ok {
			return b, nil
		}
		return json.Marshal(c.spec)
	}
	if len(c.raw) == 0 {
		return []byte("null"), nil
	}
	return c.raw, nil
}

// UnmarshalJSON keeps the bytes for Spec to decode.
func (c *Config) UnmarshalJSON(b []byte) error {
	c.raw = append(json.RawMessage(nil), b...)
	c.spec = nil
	return nil
}

// ExitStatus records how the init ended.
type ExitStatus struct {
	Code     int       `json:"code"`
	OOMKill  bool      `json:"oomKilled,omitempty"`
	ExitedAt time.Time `json:"exitedAt"`
}

const stateFile = "state.json"

// recoverFile holds, beside state.json, the few fields that delete --force
// needs to clean up (the init and its cgroups) should state.json be
// damaged by something other than hull, which only ever renames it into
// place. It is written when they change, without fsync: after a crash of
// the machine there is no process or cgroup left to find.
const recoverFile = "recover.json"

// ErrDamaged is wrapped by Load when state.json exists but cannot be read.
var ErrDamaged = errors.New("damaged")

// recovery is what recover.json holds.
type recovery struct {
	Pid       int            `json:"pid"`
	StartTime uint64         `json:"startTime"`
	Cgroup    *cgroups.Saved `json:"cgroup,omitempty"`
}

// FifoName is the fifo the init blocks on until `start` opens it.
const FifoName = "exec.fifo"

// FifoExecMark is the byte the init writes on exec.fifo right before its
// execve; anything else it writes there is why it failed.
const FifoExecMark byte = 0

// ValidateID refuses ids that are empty, contain a slash, or are . or ..,
// since the id names a directory under the root.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("container id cannot be empty")
	}
	if id == "." || id == ".." || !idChars(id) || len(id) > 1024 {
		return fmt.Errorf("invalid container id %q: only [A-Za-z0-9_+.-] are allowed and it cannot be \".\" or \"..\"", id)
	}
	return nil
}

// idChars reports whether id is only [A-Za-z0-9_+.-] (runc's ^[\w+.-]+$).
// A loop, not a regexp: compiling one cost every hull command ~0.3 ms of
// package init.
func idChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Store is the runtime root directory.
type Store struct{ Root string }

// Dir is the directory of container id.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, id) }

// Handle is a container directory whose lock this process holds.
type Handle struct {
	ID  string
	Dir string
	fd  int // the directory, flocked
	// rec is the recover.json this handle last wrote.
	rec []byte
}

// DirFd returns the locked directory's fd, valid until Close.
func (h *Handle) DirFd() int { return h.fd }

// Close releases the lock.
func (h *Handle) Close() error {
	if h.fd < 0 {
		return nil
	}
	err := unix.Close(h.fd)
	h.fd = -1
	return err
}

// New makes the directory of a new container with its first state.json,
// locked. It fails with an error wrapping os.ErrExist if the id is taken.
func (s Store) New(st *State) (*Handle, error) {
	if err := ValidateID(st.ID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		return nil, fmt.Errorf("create root %s: %w", s.Root, err)
	}
	final := s.Dir(st.ID)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("container %s: %w", st.ID, os.ErrExist)
	}
	tmp, err := os.MkdirTemp(s.Root, newPrefix(st.ID))
	if err != nil {
		return nil, fmt.Errorf("create state dir in %s: %w", s.Root, err)
	}
	fd, err := lockDir(tmp, 0)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	h := &Handle{ID: st.ID, Dir: final, fd: fd}
	if err := h.Save(st); err != nil {
		h.Close()
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE); err != nil {
		h.Close()
		os.RemoveAll(tmp)
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			return nil, fmt.Errorf("container %s: %w", st.ID, os.ErrExist)
		}
		return nil, fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	return h, nil
}

// Lock takes the exclusive lock of an existing container. It fails with an
// error wrapping os.ErrNotExist when there is no such container.
func (s Store) Lock(id string) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return s.lock(id, 0)
}

// ErrBusy is TryLock's error while another process holds the lock.
var ErrBusy = errors.New("locked by another process")

// TryLock is Lock without waiting: while another process holds the lock
// it fails with an error wrapping ErrBusy.
func (s Store) TryLock(id string) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return s.lock(id, unix.LOCK_NB)
}

func (s Store) lock(id string, flags int) (*Handle, error) {
	dir := s.Dir(id)
	fd, err := lockDir(dir, flags)
	if err != nil {
		return nil, err
	}
	// The holder before us may have deleted the directory.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("container %s: %w", id, os.ErrNotExist)
	}
	return &Handle{ID: id, Dir: dir, fd: fd}, nil
}

func lockDir(dir string, flags int) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, fmt.Errorf("container %s: %w", filepath.Base(dir), os.ErrNotExist)
		}
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX|flags)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EWOULDBLOCK {
		unix.Close(fd)
		return -1, fmt.Errorf("container %s: %w", filepath.Base(dir), ErrBusy)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("lock %s: %w", dir, err)
	}
	return fd, nil
}

// Busy reports whether another process holds the lock of container id:
// a container in phase creating whose lock is free was left by a killed
// create.
func (s Store) Busy(id string) bool {
	fd, err := unix.Open(s.Dir(id), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == unix.EWOULDBLOCK
}

// Save replaces state.json atomically (temp file, rename), and
// recover.json when the init or the cgroups changed.
//
// Neither is synced to disk, as runc's and crun's state files are not:
// they describe processes and cgroups that do not outlive the machine,
// and a reader never sees a half-written file, only a crash of the machine
// can leave one (then Load says ErrDamaged and delete --force removes the
// container). Where the root is not a tmpfs (this project's test machine
// has /run on ext4) the two fsyncs per save cost ~2 ms per create.
func (h *Handle) Save(st *State) error {
	if err := writeState(h.fd, st); err != nil {
		return err
	}
	if st.Pid == 0 && st.Cgroup == nil {
		return nil
	}
	rec := encodeRecovery(&recovery{Pid: st.Pid, StartTime: st.StartTime, Cgroup: st.Cgroup})
	if string(rec) == string(h.rec) {
		return nil
	}
	if err := writeFileAt(h.fd, recoverFile, rec, 0o600, false); err != nil {
		return err
	}
	h.rec = rec
	return nil
}

func writeState(dirfd int, st *State) error {
	data, err := encodeState(st)
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", st.ID, err)
	}
	return writeFileAt(dirfd, stateFile, data, 0o600, false)
}

// WriteFileAt writes name in dirfd atomically and durably.
func WriteFileAt(dirfd int, name string, data []byte, mode uint32) error {
	return writeFileAt(dirfd, name, data, mode, true)
}

func writeFileAt(dirfd int, name string, data []byte, mode uint32, sync bool) error {
	tmp := "." + name + ".tmp"
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dirfd, tmp, dirfd, name)
	}
	if err == nil && sync {
		err = unix.Fsync(dirfd)
	}
	if err != nil {
		unix.Unlinkat(dirfd, tmp, 0)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Load reads the state of container id. It needs no lock: state.json is only
// ever replaced by rename.
func (s Store) Load(id string) (*State, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	data, err := sysfile.ReadFile(filepath.Join(s.Dir(id), stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s: %w", id, os.ErrNotExist)
		}
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	st, err := decodeState(id, data)
	if err != nil {
		return nil, fmt.Errorf("state of %s: %s: %w: %w", id, filepath.Join(s.Dir(id), stateFile), ErrDamaged, err)
	}
	return st, nil
}

// LoadRecovery returns what recover.json keeps of container id (its init
// and cgroups) for a container whose state.json is damaged.
func (s Store) LoadRecovery(id string) (*State, error) {
	data, err := sysfile.ReadFile(filepath.Join(s.Dir(id), recoverFile))
	if err != nil {
		return nil, fmt.Errorf("recovery record of %s: %w", id, err)
	}
	rec, ok := decodeRecoveryFast(data)
	if !ok {
		rec = new(recovery)
		if err := json.Unmarshal(data, rec); err != nil {
			return nil, fmt.Errorf("recovery record of %s: %w", id, err)
		}
	}
	return &State{ID: id, Phase: PhaseCreated, Pid: rec.Pid, StartTime: rec.StartTime, Cgroup: rec.Cgroup}, nil
}

// decodeState parses state.json of container id.
func decodeState(id string, data []byte) (*State, error) {
	st, ok := decodeStateFast(data)
	if !ok {
		st = new(State)
		if err := json.Unmarshal(data, st); err != nil {
			return nil, err
		}
	}
	if st.ID != id {
		return nil, fmt.Errorf("names container %q", st.ID)
	}
	return st, nil
}

// List returns the ids of all containers, including broken ones.
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read root %s: %w", s.Root, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && ValidateID(e.Name()) == nil && e.Name()[0] != '.' {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// newPrefix starts the temporary name of a container directory that New
// prepares; os.MkdirTemp appends a random decimal number.
func newPrefix(id string) string { return ".new-" + id + "-" }

// isTempOf reports whether name is a temporary directory of New for id
// (".new-<id>-<digits>"; ids may hold '-', so the tail must be all digits).
func isTempOf(name, id string) bool {
	rest, ok := strings.CutPrefix(name, newPrefix(id))
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// RemoveStale removes the temporary directories that a create of id killed
// between preparing its directory and renaming it into place left behind
// (".new-<id>-*" whose lock nobody holds). A directory still locked belongs
// to a create in progress and is kept. It returns what it removed.
func (s Store) RemoveStale(id string) ([]string, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read root %s: %w", s.Root, err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || !isTempOf(e.Name(), id) {
			continue
		}
		dir := filepath.Join(s.Root, e.Name())
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("open %s: %w", dir, err))
			}
			continue
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			if err != unix.EWOULDBLOCK {
				errs = append(errs, fmt.Errorf("lock %s: %w", dir, err))
			}
			continue // a create in progress
		}
		err = os.RemoveAll(dir)
		unix.Close(fd)
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// Remove deletes the container's directory. The caller holds the lock.
func (h *Handle) Remove() error {
	if err := removeFlat(h.Dir); err != nil {
		return fmt.Errorf("remove state of %s: %w", h.ID, err)
	}
	return nil
}

// removeFlat is os.RemoveAll for a directory of files, with plain system
// calls: os.RemoveAll opens directories as *os.File, which starts the Go
// netpoller (an epoll instance, an eventfd, a thread woken for them) in a
// `delete` that has no other use for it (issue 18). A subdirectory, or a
// file made while it works, is left to os.RemoveAll.
func removeFlat(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || err == unix.ENOENT {
		return nil
	}
	if err != unix.ENOTEMPTY && err != unix.EEXIST {
		return removeAllFn(dir)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return removeAllFn(dir)
	}
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		unix.Unlinkat(fd, name, 0)
	}
	unix.Close(fd)
	if err := unix.Rmdir(dir); err == nil || err == unix.ENOENT {
		return nil
	}
	return removeAllFn(dir)
}

// removeAllFn is os.RemoveAll; the tests count its calls.
var removeAllFn = os.RemoveAll

// ShimLockFile is the file hull-shim keeps in a container's state directory
// for as long as it watches the container: it holds an exclusive flock on it
// and releases it only once the init's exit is recorded in state.json (or
// the shim died). `hull wait` takes a shared flock on it to sleep until then.
// cmd/hull-shim (which must not link this package: it is small and has no
// cgo) spells the same name; keep both in step.
const ShimLockFile = "shim.lock"

// WriteFileAtomic writes path (mode 0644) through a temporary file in its
// directory and a rename, so that a reader polling for the file never
// sees it half-written: pid files, hull-shim's exit file.
func WriteFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
