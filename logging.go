package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// prefixHandler writes errors and warnings to stderr as "hull: msg" lines
// when hull logs to the terminal, and everything as structured text
// (time=… level=… msg=…) when it logs to a file. Debug and info lines
// (--debug) are structured text on stderr too, as runc's are: callers and
// runc's tests look for "level=debug" there.
type prefixHandler struct {
	slog.Handler
	plain bool
}

func (h *prefixHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.plain || r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	prefix := "hull: "
	if r.Level < slog.LevelError {
		prefix += r.Level.String() + ": "
	} else {
		msg = errorLine(msg)
		prefix = ""
	}
	_, err := fmt.Fprintln(os.Stderr, prefix+msg)
	return err
}

// errorLine is an error as hull prints it on stderr: "hull: msg"; an error
// that names hull itself already (run's and create's "hull run failed: …",
// runc's "runc run failed: …") stands alone, as runc's do.
func errorLine(msg string) string {
	if strings.HasPrefix(msg, "hull ") {
		return msg
	}
	return "hull: " + msg
}
