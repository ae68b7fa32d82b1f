package libcontainer

import (
	"errors"
	"testing"
)

func TestStatusTransitions(t *testing.T) {
	cases := []struct {
		s  Status
		op Operation
		ok bool
	}{
		{Created, OpStart, true},
		{Running, OpStart, false},
		{Stopped, OpStart, false},
		{Stopped, OpKill, false},
		{Running, OpKill, true},
		{Stopped, OpDelete, true},
		{Creating, OpStart, false},
		{Paused, OpResume, true},
		{Running, OpResume, false},
	}
	for _, c := range cases {
		if got := c.s.Can(c.op); got != c.ok {
			t.Errorf("%s.Can(%s) = %v, want %v", c.s, c.op, got, c.ok)
		}
		if err := c.s.check("x", c.op); (err == nil) != c.ok {
			t.Errorf("%s.check(%s) = %v", c.s, c.op, err)
		}
	}
	if err := Stopped.check("x", OpKill); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill of a stopped container: %v, want ErrNotRunning", err)
	}
}
