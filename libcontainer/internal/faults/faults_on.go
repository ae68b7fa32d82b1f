//go:build hullfaults

package faults

import (
	"fmt"
	"os"
	"time"
)

// Point, in a test build (-tags hullfaults), stops the process at the
// named stage when HULL_FAULT names it: it says so on stderr and sleeps,
// for a test to SIGKILL it there. Release builds have no such code.
func Point(stage string) {
	if os.Getenv("HULL_FAULT") != stage {
		return
	}
	fmt.Fprintf(os.Stderr, "hull-fault: reached %s\n", stage)
	for {
		time.Sleep(time.Hour)
	}
}

// Env passes HULL_FAULT on to the init, whose environment is made
// anew.
func Env() []string {
	if v := os.Getenv("HULL_FAULT"); v != "" {
		return []string{"HULL_FAULT=" + v}
	}
	return nil
}
