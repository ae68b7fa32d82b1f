// Package jsonlite reads and writes JSON for hull's hot paths without
// encoding/json (issue 18). encoding/json's first use in a process builds
// its reflection caches and brings its code in: 0.3-3 ms per command on
// this project's machine, where a hand-written reader or writer of a
// known type takes microseconds. Readers built on Dec are exact or
// decline (Dec.Done is false), and their caller then uses encoding/json,
// which also words every error; writers built on Enc write what
// json.Marshal writes, byte for byte. Their tests hold them to that.
package jsonlite

import (
	"strconv"
	"unicode/utf8"
)

// Dec reads one JSON document. Any input it is not certain to read as
// encoding/json would (see Obj, Arr, Map, Str and the number readers)
// makes it bad, and Done false.
type Dec struct {
	data []byte
	i    int
	bad  bool
	keys []string // the keys of the struct objects being decoded, for duplicates
}

func (d *Dec) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *Dec) peek() byte {
	if d.bad || d.i >= len(d.data) {
		d.bad = true
		return 0
	}
	return d.data[d.i]
}

func (d *Dec) expect(c byte) {
	d.ws()
	if d.peek() != c {
		d.bad = true
		return
	}
	d.i++
}

// Null consumes a null literal, if that is what comes next.
func (d *Dec) Null() bool {
	d.ws()
	if d.bad || len(d.data)-d.i < 4 || string(d.data[d.i:d.i+4]) != "null" {
		return false
	}
	d.i += 4
	return true
}

func (d *Dec) literal(word string) bool {
	if len(d.data)-d.i < len(word) || string(d.data[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

// Str decodes a string literal.
func (d *Dec) Str() string {
	d.ws()
	if d.peek() != '"' {
		d.bad = true
		return ""
	}
	d.i++
	start, plain := d.i, true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			raw := d.data[start:d.i]
			d.i++
			if plain {
				if !utf8.Valid(raw) {
					d.bad = true
					return ""
				}
				return string(raw)
			}
			return d.unescape(raw)
		case c == '\\':
			plain = false
			d.i += 2
		case c < 0x20:
			d.bad = true
			return ""
		default:
			d.i++
		}
	}
	d.bad = true
	return ""
}

func (d *Dec) unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			d.bad = true
			return ""
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				d.bad = true
				return ""
			}
			r, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 32)
			// Surrogates (pairs or not) are left to encoding/json.
			if err != nil || r >= 0xd800 && r < 0xe000 {
				d.bad = true
				return ""
			}
			out = utf8.AppendRune(out, rune(r))
			i += 4
		default:
			d.bad = true
			return ""
		}
	}
	if !utf8.Valid(out) {
		d.bad = true
		return ""
	}
	return string(out)
}

// number returns the text of an integer literal, as JSON writes one.
func (d *Dec) number() string {
	d.ws()
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 1 && d.data[digits] == '0' {
		d.bad = true
		return ""
	}
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case '.', 'e', 'E':
			d.bad = true
			return ""
		}
	}
	return string(d.data[start:d.i])
}

// Int reads an integer that fits T; null leaves *p as it is.
func Int[T ~int | ~int16 | ~int32 | ~int64](d *Dec, p *T) {
	if d.Null() {
		return
	}
	v, err := strconv.ParseInt(d.number(), 10, 64)
	if err != nil || int64(T(v)) != v {
		d.bad = true
		return
	}
	*p = T(v)
}

// Uint reads a non-negative integer that fits T; null leaves *p.
func Uint[T ~uint | ~uint16 | ~uint32 | ~uint64](d *Dec, p *T) {
	if d.Null() {
		return
	}
	v, err := strconv.ParseUint(d.number(), 10, 64)
	if err != nil || uint64(T(v)) != v {
		d.bad = true
		return
	}
	*p = T(v)
}

// Str reads a string into *p; null leaves *p.
func Str[T ~string](d *Dec, p *T) {
	if d.Null() {
		return
	}
	*p = T(d.Str())
}

// Bool reads true or false; null leaves *p.
func Bool(d *Dec, p *bool) {
	if d.Null() {
		return
	}
	d.ws()
	switch {
	case d.literal("true"):
		*p = true
	case d.literal("false"):
		*p = false
	default:
		d.bad = true
	}
}

// Ptr decodes into a new T; null leaves the pointer nil.
func Ptr[T any](d *Dec, pp **T, f func(*Dec, *T)) {
	if d.Null() {
		return
	}
	v := new(T)
	f(d, v)
	*pp = v
}

// list reads an array or object from open to close, each element (for an
// object, each key and value) by elem.
func (d *Dec) list(open, close byte, elem func()) {
	d.expect(open)
	d.ws()
	if d.peek() == close {
		d.i++
		return
	}
	for !d.bad {
		elem()
		d.ws()
		if d.peek() != ',' {
			d.expect(close)
			return
		}
		d.i++
	}
}

// Arr decodes an array; [] gives an empty slice, not nil, as
// encoding/json does.
func Arr[T any](d *Dec, p *[]T, f func(*Dec, *T)) {
	if d.Null() {
		return
	}
	s := []T{}
	d.list('[', ']', func() {
		if d.Null() {
			d.bad = true // encoding/json stores a zero element
			return
		}
		var v T
		f(d, &v)
		s = append(s, v)
	})
	*p = s
}

// Map decodes an object of any keys; a repeated key's last value wins,
// as in encoding/json.
func Map[T any](d *Dec, p *map[string]T, f func(*Dec, *T)) {
	if d.Null() {
		return
	}
	m := map[string]T{}
	d.list('{', '}', func() {
		k := d.Str()
		d.expect(':')
		if d.Null() {
			d.bad = true // encoding/json stores a zero value
			return
		}
		var v T
		f(d, &v)
		m[k] = v
	})
	*p = m
}

// Obj decodes a struct's object: field decodes the value of key, or
// returns false for a key that is not the struct's.
func (d *Dec) Obj(field func(key string) bool) {
	mark := len(d.keys)
	defer func() { d.keys = d.keys[:mark] }()
	d.list('{', '}', func() {
		k := d.Str()
		for _, seen := range d.keys[mark:] {
			if seen == k {
				d.bad = true // encoding/json merges into the first
				return
			}
		}
		d.keys = append(d.keys, k)
		d.expect(':')
		if d.bad || !field(k) {
			d.bad = true
		}
	})
}

// Strs reads an array of strings.
func (d *Dec) Strs(p *[]string) { Arr(d, p, Str[string]) }

// NewDec reads data.
func NewDec(data []byte) *Dec { return &Dec{data: data} }

// Object reports whether an object comes next.
func (d *Dec) Object() bool {
	d.ws()
	return d.peek() == '{'
}

// Done reports whether everything read was read exactly and only
// whitespace follows.
func (d *Dec) Done() bool {
	d.ws()
	return !d.bad && d.i == len(d.data)
}

// Fail marks the document as one to leave to encoding/json.
func (d *Dec) Fail() { d.bad = true }

// Raw returns the next value's bytes as they are (json.RawMessage),
// checked to be JSON.
func (d *Dec) Raw() []byte {
	d.ws()
	start := d.i
	d.skip(0)
	if d.bad {
		return nil
	}
	return d.data[start:d.i]
}

func (d *Dec) skip(depth int) {
	if depth > 1000 {
		d.bad = true
		return
	}
	d.ws()
	switch c := d.peek(); {
	case c == '{':
		d.list('{', '}', func() {
			d.Str()
			d.expect(':')
			d.skip(depth + 1)
		})
	case c == '[':
		d.list('[', ']', func() { d.skip(depth + 1) })
	case c == '"':
		d.Str()
	case c == 't':
		if !d.literal("true") {
			d.bad = true
		}
	case c == 'f':
		if !d.literal("false") {
			d.bad = true
		}
	case c == 'n':
		if !d.Null() {
			d.bad = true
		}
	default:
		// Integers only: a fraction or an exponent is left to
		// encoding/json.
		d.number()
	}
}
