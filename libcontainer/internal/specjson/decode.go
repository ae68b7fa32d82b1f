// Package specjson decodes a runtime-spec config without encoding/json
// (issue 18), or declines.
package specjson

import (
	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Decode decodes the common shape of a Linux config.json without
// encoding/json. encoding/json builds its reflection caches for
// every type of the spec on the first decode of each process: 1.5-2.7 ms
// and ~230 KB of heap, per create, run and exec, where this takes a few
// tens of microseconds.
//
// It is exact or it declines: ok is false for anything whose result it is
// not certain to share with encoding/json, and the caller decodes with
// encoding/json, which also words every error. Declined: a key that is not
// exactly one of the spec's json names (encoding/json ignores unknown keys
// and matches names case-insensitively), a key repeated in one object
// (encoding/json merges into the first value), null inside an array or as
// a map value, a number with a fraction or exponent or out of its field's
// range, a string with invalid UTF-8, a control character or a surrogate
// escape, the sections of other platforms (solaris, windows, vm, zos,
// freebsd), any type mismatch, and anything but whitespace after the
// object. FuzzFastSpecSameAsJSON holds it to encoding/json's result.
func Decode(data []byte) (spec *specs.Spec, ok bool) {
	d := jl.NewDec(data)
	if !d.Object() {
		return nil, false
	}
	s := new(specs.Spec)
	specObj(d, s)
	if !d.Done() {
		return nil, false
	}
	return s, true
}
