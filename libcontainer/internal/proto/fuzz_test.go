package proto

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

func FuzzSyncMessage(f *testing.F) {
	f.Add([]byte(`{"type":"ready"}`), "error", 0, " exec: \"x\": not found\n", 2, -1)
	f.Add([]byte(`{"type":"pid","pid":12}`), "pid", 12, "", 0, 0)
	f.Add([]byte(`{"type":"config","config":{"id":"x","spec":{"ociVersion":"1.3.0","process":{"args":[]}}}}`), "mount-source", 0, "", 1234, 7)
	f.Add([]byte(`{"type":"error","error":"e","errno":1,"mount":3}`), "", 1, "x", 1, 1)
	f.Fuzz(func(t *testing.T, data []byte, typ string, pid int, errStr string, errno, mount int) {
		// What arrives is decoded, or refused; never a panic. Encoding what
		// was decoded and decoding that again gives the same encoding.
		// decodeSmall reads what json.Unmarshal reads, or declines;
		// encodeMessage writes what json.Marshal writes.
		if m, ok := decodeSmall(data); ok {
			var want Message
			if err := json.Unmarshal(data, &want); err != nil || !reflect.DeepEqual(m, &want) {
				t.Fatalf("decodeSmall(%q) = %+v, json.Unmarshal %+v, %v", data, m, want, err)
			}
		}
		if m, err := DecodeMessage(data); err == nil {
			if b, _ := encodeMessage(m); !bytes.Equal(b, mustMarshal(t, m)) {
				t.Fatalf("encodeMessage wrote %q, json.Marshal %q", b, mustMarshal(t, m))
			}
			b1, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("decoded %q, cannot encode it: %v", data, err)
			}
			m2, err := DecodeMessage(b1)
			if err != nil {
				t.Fatalf("decoded %q, encoded as %q, which does not decode: %v", data, b1, err)
			}
			if b2, _ := json.Marshal(m2); !bytes.Equal(b1, b2) {
				t.Fatalf("decoded %q: encoded %q, then %q", data, b1, b2)
			}
		}
		// A message sent is the message received, through the framing of
		// the real socket. (JSON carries UTF-8 only: the protocol's strings
		// are; others are not this property's business.)
		if !utf8.ValidString(typ) || !utf8.ValidString(errStr) {
			return
		}
		sent := &Message{Type: typ, Pid: pid, Error: errStr, Errno: errno}
		if mount >= 0 {
			sent.Mount = &mount
		}
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		sendErr := make(chan error, 1)
		go func() {
			defer unix.Close(fds[0]) // the receiver sees the end, not a hang
			sendErr <- Conn{FD: fds[0]}.Send(sent)
		}()
		got, err := Conn{FD: fds[1]}.Recv()
		if err := <-sendErr; err != nil {
			t.Fatalf("send %+v: %v", sent, err)
		}
		if typ == "" {
			if err == nil {
				t.Fatalf("a message without a type was received: %+v", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("send %+v, receive: %v", sent, err)
		}
		if !reflect.DeepEqual(sent, got) {
			t.Fatalf("sent %+v, received %+v", sent, got)
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMessageCodec(t *testing.T) {
	three := 3
	for _, m := range []*Message{
		{Type: "ready"}, {Type: "pid", Pid: 12}, {Type: "error", Error: "exec: \"x\" <&> \n\t\x01\xff\u2028", Errno: 2},
		{Type: "mount-source", Mount: &three}, {Type: ""},
		{Type: "config", Config: &InitConfig{ID: "x"}},
	} {
		b, _ := encodeMessage(m)
		if want := mustMarshal(t, m); !bytes.Equal(b, want) {
			t.Errorf("encodeMessage wrote %q, json.Marshal %q", b, want)
		}
		got, ok := decodeSmall(b)
		if m.Config != nil {
			if ok {
				t.Errorf("decodeSmall read a config message: %q", b)
			}
			continue
		}
		var want Message
		_ = json.Unmarshal(b, &want)
		if !ok || !reflect.DeepEqual(got, &want) {
			t.Errorf("decodeSmall(%q) = %+v, %v; want %+v", b, got, ok, want)
		}
	}
	for _, in := range []string{`{"type":"x","Type":"y"}`, `{"type":"x","pid":1.5}`, `{"type":"x","other":1}`, `{"type":"x"}x`, `{"type":"x","type":"y"}`} {
		if _, ok := decodeSmall([]byte(in)); ok {
			t.Errorf("decodeSmall read %q", in)
		}
	}
}
