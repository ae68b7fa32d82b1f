package specjson

import (
	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Encode writes s as json.Marshal does, byte for byte (TestEncodeSameBytes),
// without building encoding/json's encoders for the spec's types, which
// costs the first json.Marshal of a spec in each process what the first
// decode costs (see Decode). ok is false for a spec with another
// platform's section; the caller then uses json.Marshal.
func Encode(s *specs.Spec) (out []byte, ok bool) {
	if s.Solaris != nil || s.Windows != nil || s.VM != nil || s.ZOS != nil || s.FreeBSD != nil {
		return nil, false
	}
	e := jl.NewEnc(4096)
	encSpec(e, s)
	return e.Bytes(), true
}
