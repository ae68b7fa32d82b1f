//go:build !hullfaults

package libcontainer

// faultPoint is a no-op outside test builds; see faults_on.go.
func faultPoint(string) {}

func faultEnv() []string { return nil }
