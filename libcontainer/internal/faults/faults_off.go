//go:build !hullfaults

package faults

import (
	"io"
	"time"
)

// Point is a no-op outside test builds; see faults_on.go.
func Point(string) {}

// Delay is a no-op outside test builds; see faults_on.go.
func Delay(string, time.Duration) {}

// Linger is a no-op outside test builds; see faults_on.go.
func Linger(string, time.Duration, io.Closer) {}

func Env() []string { return nil }

// Migrate is a no-op outside test builds; see faults_on.go.
func Migrate() {}
