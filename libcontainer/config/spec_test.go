package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeBundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const okConfig = `{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},
"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}`

func TestLoadSpecErrors(t *testing.T) {
	cases := map[string]struct{ config, want string }{
		"ok":          {okConfig, ""},
		"syntax":      {`{"ociVersion": "1.3.0",, }`, "line 1, column 24: invalid JSON"},
		"truncated":   {`{"ociVersion": "1.3.0", "process": {`, "truncated JSON"},
		"type":        {strings.Replace(okConfig, `["sh"]`, `"sh"`, 1), "process.args: cannot use JSON string"},
		"unknown ns":  {strings.Replace(okConfig, `{"type":"mount"}`, `{"type":"foo"}`, 1), `linux.namespaces[1].type: unknown namespace "foo"`},
		"dup ns":      {strings.Replace(okConfig, `{"type":"mount"}`, `{"type":"pid"}`, 1), `linux.namespaces[1].type: duplicate namespace "pid"`},
		"no args":     {strings.Replace(okConfig, `["sh"]`, `[]`, 1), "process.args: missing"},
		"rel cwd":     {strings.Replace(okConfig, `"cwd":"/"`, `"cwd":"tmp"`, 1), "process.cwd"},
		"no rootfs":   {strings.Replace(okConfig, `"rootfs"`, `"nope"`, 1), "root.path"},
		"escape root": {strings.Replace(okConfig, `"rootfs"`, `"../x"`, 1), "leaves the bundle"},
		"version":     {strings.Replace(okConfig, `"1.3.0"`, `"2.0.0"`, 1), "ociVersion"},
		"sysctl":      {strings.Replace(okConfig, `"linux":{`, `"linux":{"sysctl":{"kernel.panic":"1"},`, 1), "linux.sysctl.kernel.panic"},
		"net sysctl":  {strings.Replace(okConfig, `"linux":{`, `"linux":{"sysctl":{"net.ipv4.ip_forward":"1"},`, 1), "not allowed in host network namespace"},
		"rlimit":      {strings.Replace(okConfig, `"cwd":"/"`, `"cwd":"/","rlimits":[{"type":"RLIMIT_FOO","soft":1,"hard":1}]`, 1), "process.rlimits[0].type"},
		"hook path":   {strings.Replace(okConfig, `"linux":{`, `"hooks":{"poststop":[{"path":"rel"}]},"linux":{`, 1), "hooks.poststop[0].path"},
		"userns maps": {strings.Replace(okConfig, `{"type":"mount"}`, `{"type":"mount"},{"type":"user"}`, 1), "uidMappings"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeBundle(t, c.config))
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), ConfigName+": ") && !strings.Contains(err.Error(), "read ") {
				t.Errorf("error %q does not start with %s:", err, ConfigName)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(okConfig))
	f.Add([]byte(`{"ociVersion":"1.0.0"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err == nil && s == nil {
			t.Fatal("nil spec without error")
		}
	})
}
