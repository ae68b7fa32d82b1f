package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) calls the device filter needs, made directly. The attribute
// structs mirror the kernel's union bpf_attr members; pointer fields are
// unsafe.Pointer so that the memory they name stays put (and alive)
// across the system call, which a uintptr kept in a uint64 would not
// guarantee. That makes them 8 bytes only on 64-bit builds, which
// loadDeviceFilter checks.

// filterName marks the programs hull attaches, so that a new Set replaces
// hull's own program and leaves programs of others (systemd, ...) alone.
const filterName = "hull_devices"

type progLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              unsafe.Pointer
	license            unsafe.Pointer
	logLevel           uint32
	logSize            uint32
	logBuf             unsafe.Pointer
	kernVersion        uint32
	progFlags          uint32
	progName           [unix.BPF_OBJ_NAME_LEN]byte
	progIfindex        uint32
	expectedAttachType uint32
}

type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type progQueryAttr struct {
	targetFd        uint32
	attachType      uint32
	queryFlags      uint32
	attachFlags     uint32
	progIds         unsafe.Pointer
	progCnt         uint32
	_               uint32
	progAttachFlags unsafe.Pointer
}

type getFdByIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

type objInfoAttr struct {
	bpfFd   uint32
	infoLen uint32
	info    unsafe.Pointer
}

// progInfo is the head of struct bpf_prog_info, up to its name.
type progInfo struct {
	typ             uint32
	id              uint32
	tag             [8]byte
	jitedProgLen    uint32
	xlatedProgLen   uint32
	jitedProgInsns  uint64
	xlatedProgInsns uint64
	loadTime        uint64
	createdByUID    uint32
	nrMapIDs        uint32
	mapIDs          uint64
	name            [unix.BPF_OBJ_NAME_LEN]byte
}

func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
		if errno == unix.EINTR || errno == unix.EAGAIN && cmd == unix.BPF_PROG_LOAD {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

// loadDeviceFilter loads the program and returns its descriptor. When the
// verifier refuses it, its log is part of the error.
func loadDeviceFilter(insns []bpfInsn) (int, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return -1, errors.New("the cgroup2 device filter needs a 64-bit build of hull")
	}
	code := encodeInsns(insns)
	license := []byte("Apache\x00")
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    unsafe.Pointer(&code[0]),
		license:  unsafe.Pointer(&license[0]),
	}
	copy(attr.progName[:], filterName)
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		runtime.KeepAlive(code)
		return fd, nil
	}
	// Again, with the verifier's log, to say why.
	log := make([]byte, 64*1024)
	attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), unsafe.Pointer(&log[0])
	fd, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if err2 == nil {
		return fd, nil
	}
	msg := string(bytes.TrimRight(log[:bytes.IndexByte(append(log, 0), 0)], "\n"))
	return -1, fmt.Errorf("load cgroup device filter (bpf BPF_PROG_LOAD): %w: %s", err, msg)
}

// attachedFilters lists the device programs attached directly to a cgroup
// (not inherited), as descriptors with their names.
func attachedFilters(cgFd int) (map[int]string, error) {
	ids := make([]uint32, 64)
	for {
		attr := progQueryAttr{
			targetFd:   uint32(cgFd),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIds:    unsafe.Pointer(&ids[0]),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if errors.Is(err, unix.ENOSPC) && int(attr.progCnt) > len(ids) {
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("bpf BPF_PROG_QUERY: %w", err)
		}
		out := map[int]string{}
		for _, id := range ids[:attr.progCnt] {
			ga := getFdByIDAttr{id: id}
			fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&ga), unsafe.Sizeof(ga))
			if errors.Is(err, unix.ENOENT) {
				continue // detached meanwhile
			}
			if err != nil {
				closeAll(out)
				return nil, fmt.Errorf("bpf BPF_PROG_GET_FD_BY_ID %d: %w", id, err)
			}
			var info progInfo
			ia := objInfoAttr{bpfFd: uint32(fd), infoLen: uint32(unsafe.Sizeof(info)), info: unsafe.Pointer(&info)}
			if _, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&ia), unsafe.Sizeof(ia)); err != nil {
				unix.Close(fd)
				closeAll(out)
				return nil, fmt.Errorf("bpf BPF_OBJ_GET_INFO_BY_FD: %w", err)
			}
			out[fd] = string(bytes.TrimRight(info.name[:], "\x00"))
		}
		return out, nil
	}
}

func closeAll(fds map[int]string) {
	for fd := range fds {
		unix.Close(fd)
	}
}

func attachFilter(cgFd, progFd int) error {
	a := progAttachAttr{targetFd: uint32(cgFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&a), unsafe.Sizeof(a)); err != nil {
		return fmt.Errorf("bpf BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): %w", err)
	}
	return nil
}

func detachFilter(cgFd, progFd int) error {
	a := progAttachAttr{targetFd: uint32(cgFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE}
	if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&a), unsafe.Sizeof(a)); err != nil {
		return fmt.Errorf("bpf BPF_PROG_DETACH (BPF_CGROUP_DEVICE): %w", err)
	}
	return nil
}

// prepareDevicesV2 compiles and loads the filter for dir; the returned
// step attaches it and then detaches the filter hull attached before.
// Attaching first means there is no moment without a filter: while both
// are attached a device must pass both.
func prepareDevicesV2(dir string, rules []devRule, t *txn) (func(*txn) error, error) {
	insns, err := deviceFilter(rules)
	if err != nil {
		return nil, err
	}
	prog, err := loadDeviceFilter(insns)
	if err != nil {
		return nil, fmt.Errorf("linux.resources.devices: %w", err)
	}
	// Attached, the program lives on in the kernel; the descriptor is
	// only needed until then (or until Set gives up).
	t.atEnd(func() { unix.Close(prog) })
	return func(t *txn) error {
		cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: dir, Err: err}
		}
		defer unix.Close(cg)
		old, err := attachedFilters(cg)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		defer closeAll(old)
		if err := attachFilter(cg, prog); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for fd, name := range old {
			if name != filterName {
				continue
			}
			if err := detachFilter(cg, fd); err != nil && !errors.Is(err, unix.ENOENT) {
				// Back to the old filter alone rather than both.
				_ = detachFilter(cg, prog)
				return fmt.Errorf("%s: replace the previous device filter: %w", dir, err)
			}
		}
		return nil
	}, nil
}
