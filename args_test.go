package main

import (
	"reflect"
	"strings"
	"testing"
)

// The results are what runc v1.5.1 (urfave/cli v1.22) makes of the same
// command lines.
func TestReorderArgs(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		{"hull delete ID --force", "hull delete --force ID"},
		{"hull delete ID -f", "hull delete -f ID"},
		{"hull --root /r delete ID -f", "hull --root /r delete -f ID"},
		{"hull --root=/r --debug delete ID -f", "hull --root=/r --debug delete -f ID"},
		{"hull --log /l state ID --help", "hull --log /l state --help"},
		{"hull delete -f ID -h", "hull delete --help"},
		{"hull delete -- ID -h", "hull delete -- ID -h"},
		{"hull kill ID KILL --all", "hull kill --all ID KILL"},
		{"hull kill ID --all KILL", "hull kill --all KILL ID"},
		{"hull run ID -d --bundle b", "hull run -d --bundle b ID"},
		{"hull run ID --bundle=b --keep", "hull run --bundle=b --keep ID"},
		{"hull list --format json -q", "hull list --format json -q"},
		{"hull create ID -- --bundle b", "hull create -- ID --bundle b"},
		{"hull create ID --unknown x", "hull create ID --unknown x"},
		// runc does not reorder exec's and ps's arguments.
		{"hull exec ID --env X=1 env", "hull exec ID --env X=1 env"},
		{"hull ps ID -f json", "hull ps ID -f json"},
		{"hull --debug", "hull --debug"},
		{"hull", "hull"},
	} {
		got := reorderArgs(app, strings.Fields(tc.in))
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("reorderArgs(%q) = %q, want %q", tc.in, got, want)
		}
	}
}
