package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/internal/specjson"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigName is the bundle's configuration file.
const ConfigName = "config.json"

// Load reads and validates <bundle>/config.json. Errors name the JSON
// path of the offending field, e.g.
// "config.json: linux.namespaces[2].type: unknown namespace \"foo\"".
func Load(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, ConfigName)
	data, err := sysfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	spec, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(spec, bundle); err != nil {
		return nil, err
	}
	return spec, nil
}

// Parse decodes config.json, turning decoder errors into ones that say
// where in the file the problem is.
func Parse(data []byte) (*specs.Spec, error) {
	if spec, ok := specjson.Decode(data); ok {
		return spec, nil
	}
	var spec specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("%s: line %d, column %d: invalid JSON: %w", ConfigName, line, col, err)
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "(top level)"
			}
			return nil, fmt.Errorf("%s: %s: cannot use JSON %s as %s", ConfigName, field, te.Value, te.Type)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%s: truncated JSON: %w", ConfigName, err)
		}
		return nil, fmt.Errorf("%s: %w", ConfigName, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the JSON object", ConfigName)
	}
	return &spec, nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	// Offset counts the bytes read, the offending one included.
	if off > 0 {
		off--
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string { return ConfigName + ": " + e.path + ": " + e.msg }

func FieldErr(path, format string, args ...any) error {
	return &fieldError{path: path, msg: fmt.Sprintf(format, args...)}
}

// namespaceFlags lists the namespace types of spec v1.3.0.
var NamespaceTypes = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

// Validate checks what the runtime relies on before anything is created,
// so that bad input leaves nothing behind.
func Validate(s *specs.Spec, bundle string) error {
	if s.Version == "" {
		return FieldErr("ociVersion", "missing")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return FieldErr("ociVersion", "unsupported version %q (want 1.x)", s.Version)
	}
	if s.Root == nil || s.Root.Path == "" {
		return FieldErr("root.path", "missing")
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		if c := filepath.Clean(rootfs); c == ".." || strings.HasPrefix(c, "../") {
			return FieldErr("root.path", "relative path %q leaves the bundle", s.Root.Path)
		}
		rootfs = filepath.Join(bundle, rootfs)
	}
	fi, err := os.Stat(rootfs)
	if err != nil {
		return FieldErr("root.path", "%v", err)
	}
	if !fi.IsDir() {
		return FieldErr("root.path", "%s is not a directory", rootfs)
	}
	if s.Process == nil {
		return FieldErr("process", "missing")
	}
	if err := ValidateProcess(s.Process, "process"); err != nil {
		return err
	}
	if s.Linux == nil {
		return FieldErr("linux", "missing")
	}
	if err := validateNamespaces(s); err != nil {
		return err
	}
	if err := validateNetDevices(s); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		p := fmt.Sprintf("mounts[%d]", i)
		if m.Destination == "" {
			return FieldErr(p+".destination", "missing")
		}
		// A bind source is looked up when it is mounted, in the
		// container's mount namespace (an earlier mount may provide
		// it), as runc does.
		if IsBind(m) && m.Source == "" {
			return FieldErr(p+".source", "missing for a bind mount")
		}
		opts, err := ParseMountOptions(m.Options)
		if err != nil {
			return FieldErr(p+".options", "%v", err)
		}
		if err := validateIDMapMount(s, m, opts); err != nil {
			return FieldErr(p, "%v", err)
		}
	}
	for i, d := range s.Linux.Devices {
		p := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) {
			return FieldErr(p+".path", "%q is not absolute", d.Path)
		}
		switch d.Type {
		case "c", "u", "b":
			// mknod(2) takes a 32-bit dev_t: 12 bits of major, 20 of minor.
			if d.Major < 0 || d.Major > 0xfff {
				return FieldErr(p+".major", "%d is not a device major number (0 to 4095)", d.Major)
			}
			if d.Minor < 0 || d.Minor > 0xfffff {
				return FieldErr(p+".minor", "%d is not a device minor number (0 to 1048575)", d.Minor)
			}
		case "p":
		default:
			return FieldErr(p+".type", "unknown device type %q (want c, u, b or p)", d.Type)
		}
	}
	for i, mp := range s.Linux.MaskedPaths {
		if !filepath.IsAbs(mp) {
			return FieldErr(fmt.Sprintf("linux.maskedPaths[%d]", i), "%q is not absolute", mp)
		}
	}
	for i, rp := range s.Linux.ReadonlyPaths {
		if !filepath.IsAbs(rp) {
			return FieldErr(fmt.Sprintf("linux.readonlyPaths[%d]", i), "%q is not absolute", rp)
		}
	}
	switch s.Linux.RootfsPropagation {
	case "", "shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable", "runbindable":
	default:
		return FieldErr("linux.rootfsPropagation", "unknown propagation %q", s.Linux.RootfsPropagation)
	}
	if err := validateRlimits(s.Process); err != nil {
		return err
	}
	if err := validateProcAttrs(s); err != nil {
		return err
	}
	if err := validateSysctl(s); err != nil {
		return err
	}
	if err := validateSeccomp(s); err != nil {
		return err
	}
	if err := validateLSM(s, "process", s.Process); err != nil {
		return err
	}
	return validateHooks(s.Hooks)
}

func ValidateProcess(p *specs.Process, path string) error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return FieldErr(path+".args", "missing: the process needs a command")
	}
	if p.Cwd == "" {
		return FieldErr(path+".cwd", "missing")
	}
	if !filepath.IsAbs(p.Cwd) {
		return FieldErr(path+".cwd", "%q is not absolute", p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return FieldErr(fmt.Sprintf("%s.env[%d]", path, i), "%q is not KEY=VALUE", e)
		}
	}
	return nil
}

func validateNamespaces(s *specs.Spec) error {
	seen := map[specs.LinuxNamespaceType]int{}
	for i, ns := range s.Linux.Namespaces {
		p := fmt.Sprintf("linux.namespaces[%d]", i)
		if !NamespaceTypes[ns.Type] {
			return FieldErr(p+".type", "unknown namespace %q", ns.Type)
		}
		if j, dup := seen[ns.Type]; dup {
			return FieldErr(p+".type", "duplicate namespace %q (also linux.namespaces[%d])", ns.Type, j)
		}
		seen[ns.Type] = i
		if ns.Path != "" {
			if !filepath.IsAbs(ns.Path) {
				return FieldErr(p+".path", "%q is not absolute", ns.Path)
			}
			if _, err := os.Stat(ns.Path); err != nil {
				return FieldErr(p+".path", "%v", err)
			}
		}
	}
	_, userns := seen[specs.UserNamespace]
	if userns && s.Linux.Namespaces[seen[specs.UserNamespace]].Path == "" {
		if len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0 {
			return FieldErr("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
		}
	} else if len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0 {
		return FieldErr("linux.uidMappings", "mappings given without a new user namespace")
	}
	if _, ok := seen[specs.UTSNamespace]; !ok {
		if s.Hostname != "" {
			return FieldErr("hostname", "setting the hostname needs a new uts namespace")
		}
		if s.Domainname != "" {
			return FieldErr("domainname", "setting the domainname needs a new uts namespace")
		}
	}
	if i, ok := seen[specs.TimeNamespace]; !ok || s.Linux.Namespaces[i].Path != "" {
		if len(s.Linux.TimeOffsets) > 0 {
			return FieldErr("linux.timeOffsets", "time offsets need a new time namespace")
		}
	}
	for clock := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return FieldErr("linux.timeOffsets."+clock, "unknown clock (want monotonic or boottime)")
		}
	}
	return nil
}

func IsBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}
