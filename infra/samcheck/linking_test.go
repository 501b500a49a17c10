package samcheck

import (
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/app"
)

// TestFunctionsLinkOnlyTheirParts: each function, built as deployed, links
// the package of each optional part its routes declare (app.NeedsOf: its
// routes' httpapi.NeedsOf, or a background function's own; app.PartTable)
// and no other: a missing one would stop the function at
// init, an extra one costs size and start-up. None links the SDK's full
// configuration loader or allparts.
func TestFunctionsLinkOnlyTheirParts(t *testing.T) {
	const mod = "github.com/ekolek/identity/"
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
		needs := app.NeedsOf(fn)
		for _, p := range app.PartTable {
			switch links := slices.Contains(deps, mod+p.Package); {
			case needs&p.Needs != 0 && !links:
				t.Errorf("functions/%s does not link %s, which it needs: add %s to its app.Parts", fn, p.Package, p.Field)
			case needs&p.Needs == 0 && links:
				t.Errorf("functions/%s links %s, which it does not need (app.Parts.%s)", fn, p.Package, p.Field)
			}
		}
		for _, pkg := range forbidden {
			if slices.Contains(deps, pkg) {
				t.Errorf("functions/%s links %s", fn, pkg)
			}
		}
	}
	for _, fn := range app.Functions() {
		if !seen[fn] {
			t.Errorf("no package functions/%s", fn)
		}
	}
}
