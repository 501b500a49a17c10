package rie

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestGoBinDirsReadsBothLinesOfGoEnv(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      []string
	}{
		// GOBIN unset: the first line is empty, and GOPATH's bin is where
		// `go install` put the emulator.
		{"no GOBIN", "\n/home/me/go\n", []string{"/home/me/go/bin/" + Binary}},
		{"GOBIN", "/opt/bin\n/home/me/go\n", []string{"/opt/bin/" + Binary, "/home/me/go/bin/" + Binary}},
		{"GOPATH list", "\n/a" + string(filepath.ListSeparator) + "/b\n", []string{"/a/bin/" + Binary, "/b/bin/" + Binary}},
	} {
		if got := goBinDirs(tc.out); !slices.Equal(got, tc.want) {
			t.Errorf("%s: goBinDirs(%q) = %q, want %q", tc.name, tc.out, got, tc.want)
		}
	}
}

// An emulator that `go install` put in $GOPATH/bin (GOBIN unset) is found
// there instead of being installed again into .tools.
func TestFindLooksInGOPATHBin(t *testing.T) {
	gopath := t.TempDir()
	bin := filepath.Join(gopath, "bin", Binary)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(PathEnv, "")
	t.Setenv("PATH", filepath.Dir(goCmd))
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", gopath)
	got, err := Find(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got != bin {
		t.Fatalf("Find = %s, want %s", got, bin)
	}
}
