package samcheck

import (
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/app"
)

// TestFunctionMemoryAndTimeout: every function states its own MemorySize
// and Timeout (chosen from measurements, with the reason beside them), so a
// new function cannot start on a default nobody chose; Globals sets
// neither. A function behind the API stays under API Gateway's 29-second
// integration timeout, so the function, not the gateway, ends a slow
// request; a background function (app.Background) under Lambda's 900 s.
func TestFunctionMemoryAndTimeout(t *testing.T) {
	tp := loadTemplate(t)
	for _, name := range []string{"MemorySize", "Timeout"} {
		if v := get(tp.globals, name); v != nil {
			t.Errorf("%s: Globals.Function sets %s; set it on each function instead, from its measurements", where(v), name)
		}
	}
	tp.eachFunction(func(f, id string, fn *yaml.Node) {
		props := get(fn, "Properties")
		number := func(name string, lo, hi int) {
			t.Helper()
			v := get(props, name)
			n, err := strconv.Atoi(scalar(v))
			switch {
			case v == nil:
				t.Errorf("%s: %s sets no %s: choose one from its measurements (docs/deploy.md)", where(fn), id, name)
			case err != nil:
				t.Errorf("%s: %s: %s must be a plain number, got %q", where(v), id, name, v.Value)
			case n < lo || n > hi:
				t.Errorf("%s: %s: %s %d is outside %d-%d", where(v), id, name, n, lo, hi)
			}
		}
		number("MemorySize", 128, 10240) // Lambda's range, in MB
		if _, background := app.Background[f]; background {
			number("Timeout", 1, 900) // seconds, Lambda's most
		} else {
			number("Timeout", 1, 28) // seconds, under API Gateway's 29
		}
	})
}
