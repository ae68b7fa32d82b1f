package jsonlite

import (
	"sort"
	"strconv"
	"unicode/utf8"
)

// NewEnc starts a document.
func NewEnc(size int) *Enc { return &Enc{b: make([]byte, 0, size)} }

// Bytes is what was written.
func (e *Enc) Bytes() []byte { return e.b }

// Raw writes b, a value already encoded as json.Marshal encodes.
func (e *Enc) Raw(b []byte) { e.b = append(e.b, b...) }

// Enc writes JSON as json.Marshal does.
type Enc struct {
	b     []byte
	first bool // no field written yet in the current object
}

func (e *Enc) Open() bool {
	e.b = append(e.b, '{')
	was := e.first
	e.first = true
	return was
}

func (e *Enc) Close(was bool) {
	e.b = append(e.b, '}')
	e.first = was
}

func (e *Enc) Key(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

const hexDigits = "0123456789abcdef"

// Str writes a string as encoding/json does: HTML-safe, U+2028 and U+2029
// escaped, invalid UTF-8 as U+FFFD.
func (e *Enc) Str(s string) {
	e.b = append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			e.b = append(e.b, s[start:i]...)
			switch c {
			case '\\', '"':
				e.b = append(e.b, '\\', c)
			case '\b':
				e.b = append(e.b, '\\', 'b')
			case '\f':
				e.b = append(e.b, '\\', 'f')
			case '\n':
				e.b = append(e.b, '\\', 'n')
			case '\r':
				e.b = append(e.b, '\\', 'r')
			case '\t':
				e.b = append(e.b, '\\', 't')
			default:
				e.b = append(e.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.b = append(e.b, s[start:i]...)
			e.b = append(e.b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			e.b = append(e.b, s[start:i]...)
			e.b = append(e.b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	e.b = append(e.b, s[start:]...)
	e.b = append(e.b, '"')
}

// The field writers: S, I, U, B always; O* with omitempty (zero values
// left out); V* write a value.

func S[T ~string](e *Enc, k string, v T) {
	e.Key(k)
	e.Str(string(v))
}

func OS[T ~string](e *Enc, k string, v T) {
	if v != "" {
		S(e, k, v)
	}
}

func I[T ~int | ~int32 | ~int64](e *Enc, k string, v T) {
	e.Key(k)
	e.b = strconv.AppendInt(e.b, int64(v), 10)
}

func OI[T ~int | ~int32 | ~int64](e *Enc, k string, v T) {
	if v != 0 {
		I(e, k, v)
	}
}

func U[T ~uint | ~uint16 | ~uint32 | ~uint64](e *Enc, k string, v T) {
	e.Key(k)
	e.b = strconv.AppendUint(e.b, uint64(v), 10)
}

func OU[T ~uint | ~uint16 | ~uint32 | ~uint64](e *Enc, k string, v T) {
	if v != 0 {
		U(e, k, v)
	}
}

func B(e *Enc, k string, v bool) {
	e.Key(k)
	e.b = strconv.AppendBool(e.b, v)
}

func OB(e *Enc, k string, v bool) {
	if v {
		B(e, k, v)
	}
}

// OP writes a non-nil pointer's value.
func OP[T any](e *Enc, k string, p *T, f func(*Enc, *T)) {
	if p != nil {
		e.Key(k)
		f(e, p)
	}
}

func VI[T ~int | ~int64](e *Enc, v *T) { e.b = strconv.AppendInt(e.b, int64(*v), 10) }
func VU[T ~uint | ~uint16 | ~uint32 | ~uint64](e *Enc, v *T) {
	e.b = strconv.AppendUint(e.b, uint64(*v), 10)
}
func VB(e *Enc, v *bool)                 { e.b = strconv.AppendBool(e.b, *v) }
func VS[T ~string](e *Enc, v *T)         { e.Str(string(*v)) }
func VStrs(e *Enc, v *[]string)          { VArr(e, *v, VS[string]) }
func OStrs(e *Enc, k string, v []string) { OA(e, k, v, VS[string]) }
func OA[T any](e *Enc, k string, v []T, f func(*Enc, *T)) {
	if len(v) > 0 {
		e.Key(k)
		VArr(e, v, f)
	}
}

func VArr[T any](e *Enc, v []T, f func(*Enc, *T)) {
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '[')
	for i := range v {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		f(e, &v[i])
	}
	e.b = append(e.b, ']')
}

// OM writes a non-empty map, its keys sorted as encoding/json sorts them.
func OM[T any](e *Enc, k string, m map[string]T, f func(*Enc, *T)) {
	if len(m) == 0 {
		return
	}
	e.Key(k)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.Str(k)
		e.b = append(e.b, ':')
		v := m[k]
		f(e, &v)
	}
	e.b = append(e.b, '}')
}

// Compact reports whether b is already as encoding/json leaves a
// marshaller's output (it compacts it and escapes it for HTML): no
// whitespace outside strings, and no <, >, & or U+2028/U+2029 inside.
func Compact(b []byte) bool {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in && (c == '<' || c == '>' || c == '&'):
			return false
		case in && c == 0xe2 && i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xa8 || b[i+2] == 0xa9):
			return false
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return !in
}
