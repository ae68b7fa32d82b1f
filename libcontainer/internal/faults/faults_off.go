//go:build !hullfaults

package faults

import "time"

// Point is a no-op outside test builds; see faults_on.go.
func Point(string) {}

// Delay is a no-op outside test builds; see faults_on.go.
func Delay(string, time.Duration) {}

func Env() []string { return nil }

// Migrate is a no-op outside test builds; see faults_on.go.
func Migrate() {}
