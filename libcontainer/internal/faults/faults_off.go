//go:build !hullfaults

package faults

// faultPoint is a no-op outside test builds; see faults_on.go.
func Point(string) {}

func Env() []string { return nil }
