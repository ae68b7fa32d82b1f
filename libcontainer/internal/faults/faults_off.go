//go:build !hullfaults

package faults

// Point is a no-op outside test builds; see faults_on.go.
func Point(string) {}

func Env() []string { return nil }

// Migrate is a no-op outside test builds; see faults_on.go.
func Migrate() {}
