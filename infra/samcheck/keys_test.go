package samcheck

import (
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/httpapi"
)

// The two key secrets outlive the stack, like the table whose items they
// sign and key, and every function that reads keys may read both and
// nothing else, named by the variables the application reads.
func TestKeySecretsAreKeptAndGrantedTogether(t *testing.T) {
	tp := loadTemplate(t)
	secrets := []string{"SigningKeySecret", "DataKeySecret"}
	for _, id := range secrets {
		r := tp.resources[id]
		if scalar(get(r, "Type")) != "AWS::SecretsManager::Secret" {
			t.Errorf("%s: not an AWS::SecretsManager::Secret", id)
			continue
		}
		for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if got := scalar(get(r, policy)); got != "Retain" {
				t.Errorf("%s %s: %s: %q, want Retain (the secret must survive a stack deletion)", where(r), id, policy, got)
			}
		}
	}
	vars := get(get(tp.globals, "Environment"), "Variables")
	for name, id := range map[string]string{"EKOLEK_SIGNING_KEY_SECRET_ARN": "SigningKeySecret", "EKOLEK_DATA_KEY_SECRET_ARN": "DataKeySecret"} {
		if got := ref(get(vars, name)); got != id {
			t.Errorf("Globals: %s is !Ref %q, want !Ref %s", name, got, id)
		}
	}
	for _, f := range app.Functions() {
		id := logicalID(f)
		st := statements(tp, id, "secretsmanager:GetSecretValue")
		// A function that only serves the pages opens no store and reads
		// no key (app.PagesHandler).
		if httpapi.PagesOnly(f) {
			if len(st) != 0 {
				t.Errorf("%s reads no keys but may read secrets (%s)", id, where(st[0]))
			}
			continue
		}
		var got []string
		for _, s := range st {
			walk(get(s, "Resource"), func(n *yaml.Node) {
				if r := ref(n); r != "" {
					got = append(got, r)
				}
			})
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"DataKeySecret", "SigningKeySecret"}) {
			t.Errorf("%s: secretsmanager:GetSecretValue on %v, want both key secrets and nothing else", id, got)
		}
	}
}
