package rie_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ekolek/identity/infra/rie"
)

// A function gets the plain values its template resource adds to Globals'
// environment, and nothing CloudFormation computes.
func TestTemplateEnv(t *testing.T) {
	for fn, want := range map[string][]string{
		"register":        {"GOGC=400"},
		"password-change": {"GOGC=400"},
		"reset-confirm":   {"GOGC=400"},
		"session":         nil,
		"login":           nil,
	} {
		got, err := rie.TemplateEnv(root, fn)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("TemplateEnv(%s) = %q, want %q", fn, got, want)
		}
	}
	if _, err := rie.TemplateEnv(root, "no-such-function"); err == nil {
		t.Error("TemplateEnv of a function the template lacks: no error")
	}

	dir := t.TempDir()
	tpl := `Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata:
      Source: functions/f
    Properties:
      Environment:
        Variables:
          PLAIN: "1"
          NUMBER: 2
          TABLE: !Ref Table
          NAME: !Sub "${AWS::StackName}-x"
`
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := rie.TemplateEnv(dir, "f")
	if want := []string{"PLAIN=1", "NUMBER=2"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("TemplateEnv with intrinsics = %q, %v; want %q", got, err, want)
	}
}
