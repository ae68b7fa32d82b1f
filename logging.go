package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// prefixHandler writes log records to stderr as "hull: msg" lines when hull
// logs to the terminal, and as structured text when it logs to a file.
type prefixHandler struct {
	slog.Handler
	plain bool
}

func (h *prefixHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.plain {
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
	}
	_, err := fmt.Fprintln(os.Stderr, prefix+msg)
	return err
}
