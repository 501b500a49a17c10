package samcheck

import (
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/httpapi"
)

// TestFunctionsLinkOnlyTheirParts: each function, built as deployed, links
// the optional parts its routes need (httpapi.NeedsOf) and no other: a
// missing one would stop the function at init, an extra one costs size and
// start-up. None links the SDK's full configuration loader or allparts.
func TestFunctionsLinkOnlyTheirParts(t *testing.T) {
	const mod = "github.com/ekolek/identity/"
	parts := map[httpapi.Needs]string{
		httpapi.NeedsPhone:          mod + "shared/phone",
		httpapi.NeedsPasswordPolicy: mod + "shared/password/strength",
		httpapi.NeedsMessages:       mod + "shared/notify/awsnotify",
		httpapi.NeedsPages:          mod + "shared/web",
	}
	forbidden := []string{"github.com/aws/aws-sdk-go-v2/config", mod + "shared/app/allparts"}

	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./functions/...")
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		fn, deps := path.Base(fields[0]), fields[1:]
		seen[fn] = true
		needs := httpapi.NeedsOf(fn)
		for n, pkg := range parts {
			switch links := slices.Contains(deps, pkg); {
			case needs&n != 0 && !links:
				t.Errorf("functions/%s does not link %s, which its routes need: add it to its app.Parts", fn, pkg)
			case needs&n == 0 && links:
				t.Errorf("functions/%s links %s, which none of its routes needs", fn, pkg)
			}
		}
		for _, pkg := range forbidden {
			if slices.Contains(deps, pkg) {
				t.Errorf("functions/%s links %s", fn, pkg)
			}
		}
	}
	for _, fn := range httpapi.Functions() {
		if !seen[fn] {
			t.Errorf("no package functions/%s", fn)
		}
	}
}
