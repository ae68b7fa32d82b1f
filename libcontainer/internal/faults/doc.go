// Package faults stops a test build (-tags hullfaults) at named stages on
// either side of the clone, for tests that kill hull there; release builds
// have no such code.
package faults
