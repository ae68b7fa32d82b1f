// Package affinity sets CPU affinity from a CPU list, on both sides of the
// clone: the parent's cloning thread takes process.execCPUAffinity.initial
// (process.WithInitialAffinity), the child resets its mask or takes the
// final one.
package affinity
