package samcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/throttle"
)

// The conventions this package enforces, which the Makefile and events/ follow:
//
//   - Function "admin-residents" is the resource AdminResidentsFunction in
//     template.yaml, built by the Makefile target build-AdminResidentsFunction
//     (SAM's BuildMethod: makefile) from ./functions/admin-residents.
//   - Event files are events/<function>.<case>.json: function names may hold
//     '-', so '.' separates the case; the case is lower-case words joined by '-'.

// logicalID is the template resource of a function: CamelCase(name)+"Function".
// eachFunction calls do for every function (the route table's and the
// background ones, app.Functions) with its logical id and resource;
// functions the template lacks are left to TestFunctionResources, which
// reports them.
func (tp *tmpl) eachFunction(do func(function, id string, res *yaml.Node)) {
	for _, f := range app.Functions() {
		id := logicalID(f)
		if res := tp.resources[id]; res != nil {
			do(f, id, res)
		}
	}
}

func logicalID(function string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(function, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Function"
}

func TestLogicalID(t *testing.T) {
	for in, want := range map[string]string{
		"login":           "LoginFunction",
		"admin-residents": "AdminResidentsFunction",
		"password-reset":  "PasswordResetFunction",
	} {
		if got := logicalID(in); got != want {
			t.Errorf("logicalID(%q) = %q, want %q", in, got, want)
		}
	}
}

// root is the repository root: the nearest directory above the test holding go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ---------------------------------------------------------------- template

// tmpl is template.yaml as YAML nodes: CloudFormation's short-form tags
// (!Ref, !GetAtt, !Sub, ...) stay as node tags instead of breaking decoding.
type tmpl struct {
	resources map[string]*yaml.Node // logical id -> resource mapping
	ids       []string              // logical ids in file order
	globals   *yaml.Node            // Globals.Function, or nil
	params    *yaml.Node            // Parameters, or nil
	conds     *yaml.Node            // Conditions, or nil
}

func loadTemplate(t *testing.T) *tmpl {
	t.Helper()
	path := filepath.Join(root(t), "template.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatal("template.yaml: not a YAML mapping")
	}
	top := doc.Content[0]
	res := get(top, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		t.Fatal("template.yaml: no Resources mapping")
	}
	if err := expandForEach(res); err != nil {
		t.Fatal(err)
	}
	tp := &tmpl{resources: map[string]*yaml.Node{}, globals: get(get(top, "Globals"), "Function"), params: get(top, "Parameters"), conds: get(top, "Conditions")}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		tp.resources[id] = res.Content[i+1]
		tp.ids = append(tp.ids, id)
	}
	return tp
}

// ofType returns the logical ids of resources of type typ, in file order.
func (tp *tmpl) ofType(typ string) []string {
	var ids []string
	for _, id := range tp.ids {
		if scalar(get(tp.resources[id], "Type")) == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// prop returns a property of a function, falling back to Globals.Function.
func (tp *tmpl) prop(fn *yaml.Node, name string) *yaml.Node {
	if v := get(get(fn, "Properties"), name); v != nil {
		return v
	}
	return get(tp.globals, name)
}

// get returns the value under key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalar is the value of a plain scalar node, or "" for anything else
// (including intrinsic functions such as !Ref, which are not literal values).
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		return ""
	}
	return n.Value
}

// ref returns the logical id n refers to with !Ref X or {Ref: X}, or "".
func ref(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!Ref" {
		return n.Value
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref" {
		return scalar(n.Content[1])
	}
	return ""
}

// scalars returns the plain strings of n: one for a scalar, each for a sequence.
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			if s := scalar(c); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := scalar(n); s != "" {
		return []string{s}
	}
	return nil
}

// where names a template node for messages.
func where(n *yaml.Node) string {
	if n == nil {
		return "template.yaml"
	}
	return fmt.Sprintf("template.yaml:%d", n.Line)
}

func routeKey(method, path string) string { return strings.ToUpper(method) + " " + path }

// lambdaRoutes is the route table without its LocalOnly rows: the routes
// API Gateway serves through a function. Local-only routes (GET /dev/outbox)
// have no function, template resource, Api event or event file, and a
// template that gave them one would expose them in production.
func lambdaRoutes() []httpapi.Route {
	var out []httpapi.Route
	for _, r := range httpapi.Table {
		if !r.LocalOnly {
			out = append(out, r)
		}
	}
	return out
}

var functionName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// TestRouteTable checks the table itself on what the rest of this package relies on.
func TestRouteTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range httpapi.Table {
		k := routeKey(r.Method, r.Path)
		if seen[k] {
			t.Errorf("route %s appears twice in httpapi.Table", k)
		}
		seen[k] = true
		if r.LocalOnly {
			// Served by the local API only: no function, template resource or event.
			if r.Function != "" {
				t.Errorf("route %s is LocalOnly but names function %q; local-only routes have no Lambda function", k, r.Function)
			}
			continue
		}
		if !functionName.MatchString(r.Function) {
			t.Errorf("route %s: function name %q must be lower-case words joined by '-' (it names functions/<name>, a template resource and event files)", k, r.Function)
		}
		hasRealm := slices.Contains(strings.Split(r.Path, "/"), "{realm}")
		switch {
		case hasRealm && len(r.Realms) == 0:
			t.Errorf("route %s has {realm} in its path but no Realms", k)
		case !hasRealm && r.Realms != nil:
			t.Errorf("route %s has Realms %v but no {realm} in its path", k, r.Realms)
		}
	}
}

// TestFunctionResources: one AWS::Serverless::Function per function of the
// table and per background function (app.Functions), built by the Makefile
// for arm64, and no others.
func TestFunctionResources(t *testing.T) {
	tp := loadTemplate(t)
	want := map[string]string{} // logical id -> function
	for _, f := range app.Functions() {
		want[logicalID(f)] = f
	}
	for _, f := range app.Functions() {
		id := logicalID(f)
		fn, ok := tp.resources[id]
		if !ok {
			t.Errorf("function %q (httpapi.Table) has no resource %s in template.yaml", f, id)
			continue
		}
		if typ := scalar(get(fn, "Type")); typ != "AWS::Serverless::Function" {
			t.Errorf("%s: resource %s for function %q has Type %q, want AWS::Serverless::Function", where(fn), id, f, typ)
			continue
		}
		if bm := scalar(get(get(fn, "Metadata"), "BuildMethod")); bm != "makefile" {
			t.Errorf("%s: %s: Metadata.BuildMethod is %q, want makefile (the Makefile's build-%s target builds ./functions/%s)", where(fn), id, bm, id, f)
		}
		if src := scalar(get(get(fn, "Metadata"), "Source")); src != "functions/"+f {
			t.Errorf("%s: %s: Metadata.Source is %q, want %q (the package the Makefile builds)", where(fn), id, src, "functions/"+f)
		}
		if cu := scalar(tp.prop(fn, "CodeUri")); cu != "." {
			t.Errorf("%s: %s: CodeUri is %q, want \".\" (the module root, where the Makefile is)", where(fn), id, cu)
		}
		if h := scalar(tp.prop(fn, "Handler")); h != "bootstrap" {
			t.Errorf("%s: %s: Handler is %q, want bootstrap", where(fn), id, h)
		}
		if rt := scalar(tp.prop(fn, "Runtime")); rt != "provided.al2023" {
			t.Errorf("%s: %s: Runtime is %q, want provided.al2023", where(fn), id, rt)
		}
		if arch := scalars(tp.prop(fn, "Architectures")); !slices.Equal(arch, []string{"arm64"}) {
			t.Errorf("%s: %s: Architectures is %v, want [arm64] (the Makefile builds GOARCH=arm64)", where(fn), id, arch)
		}
	}
	for _, id := range tp.ofType("AWS::Serverless::Function") {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: function resource %s is no function of httpapi.Table or app.Background (functions: %s)", where(tp.resources[id]), id, strings.Join(app.Functions(), ", "))
		}
	}
}

// apiEvent is one Api event of a function resource.
type apiEvent struct {
	function string // logical id
	name     string
	node     *yaml.Node
}

// TestApiEvents: every method of every route of the table (a GET route
// answers HEAD too: Route.Methods) is exactly one Api event, on its
// function's resource, on the template's one REST API; nothing else is.
func TestApiEvents(t *testing.T) {
	tp := loadTemplate(t)
	apis := tp.ofType("AWS::Serverless::Api")
	if len(apis) != 1 {
		t.Fatalf("template.yaml has %d AWS::Serverless::Api resources %v, want exactly 1", len(apis), apis)
	}
	if ids := tp.ofType("AWS::Serverless::HttpApi"); len(ids) > 0 {
		t.Errorf("template.yaml has HTTP APIs %v; the functions expect REST (v1 payload) events", ids)
	}

	byRoute := map[string][]apiEvent{}
	for _, id := range tp.ofType("AWS::Serverless::Function") {
		evs := get(get(tp.resources[id], "Properties"), "Events")
		if evs == nil {
			continue
		}
		for i := 0; i+1 < len(evs.Content); i += 2 {
			name, ev := evs.Content[i].Value, evs.Content[i+1]
			switch typ := scalar(get(ev, "Type")); typ {
			case "Api":
			case "HttpApi":
				t.Errorf("%s: %s event %s is HttpApi; routes are REST API (Type: Api) events", where(ev), id, name)
				continue
			default:
				continue // schedules and the like are not routes
			}
			p := get(ev, "Properties")
			if api := ref(get(p, "RestApiId")); api != apis[0] {
				t.Errorf("%s: %s event %s: RestApiId must be !Ref %s (without it SAM creates a second, implicit API), got %q", where(ev), id, name, apis[0], api)
			}
			path, method := scalar(get(p, "Path")), scalar(get(p, "Method"))
			if path == "" || method == "" {
				t.Errorf("%s: %s event %s: Path and Method must be plain strings", where(ev), id, name)
				continue
			}
			k := routeKey(method, path)
			byRoute[k] = append(byRoute[k], apiEvent{function: id, name: name, node: ev})
		}
	}

	routes := map[string]httpapi.Route{}
	for _, r := range lambdaRoutes() {
		for _, m := range r.Methods() {
			checkRouteEvents(t, routeKey(m, r.Path), r, byRoute[routeKey(m, r.Path)])
			routes[routeKey(m, r.Path)] = r
		}
	}
	for _, k := range slices.Sorted(maps.Keys(byRoute)) {
		if _, ok := routes[k]; !ok {
			local := slices.ContainsFunc(httpapi.Table, func(r httpapi.Route) bool { return r.LocalOnly && routeKey(r.Method, r.Path) == k })
			for _, e := range byRoute[k] {
				if local {
					t.Errorf("%s: %s event %s (%s) deploys a local-only route; it must not reach API Gateway", where(e.node), e.function, e.name, k)
					continue
				}
				t.Errorf("%s: %s event %s (%s) is not a route of httpapi.Table", where(e.node), e.function, e.name, k)
			}
		}
	}
}

// checkRouteEvents: the route's method k has exactly one Api event, on the
// route's function.
func checkRouteEvents(t *testing.T, k string, r httpapi.Route, evs []apiEvent) {
	t.Helper()
	switch {
	case len(evs) == 0:
		t.Errorf("route %s (function %q) has no Api event: add one to %s in template.yaml", k, r.Function, logicalID(r.Function))
	case len(evs) > 1:
		var names []string
		for _, e := range evs {
			names = append(names, e.function+"."+e.name)
		}
		t.Errorf("route %s has %d Api events (%s), want exactly one", k, len(evs), strings.Join(names, ", "))
	case evs[0].function != logicalID(r.Function):
		t.Errorf("%s: route %s belongs to function %q (%s) but its Api event %s is on %s", where(evs[0].node), k, r.Function, logicalID(r.Function), evs[0].name, evs[0].function)
	}
}

// TestMethodSettings: per-route stage settings (throttling) name routes that
// exist, so renaming a route cannot silently drop its tighter limits.
func TestMethodSettings(t *testing.T) {
	tp := loadTemplate(t)
	for _, id := range tp.ofType("AWS::Serverless::Api") {
		ms := get(get(tp.resources[id], "Properties"), "MethodSettings")
		if ms == nil {
			continue
		}
		for _, s := range ms.Content {
			rp, m := scalar(get(s, "ResourcePath")), strings.ToUpper(scalar(get(s, "HttpMethod")))
			if rp == "/*" {
				continue
			}
			// In a stage setting's key "/" is written "~1" and "~" is "~0".
			path := strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(rp, "/"), "~1", "/"), "~0", "~")
			found := false
			for _, r := range lambdaRoutes() {
				if r.Path == path && (m == "*" || slices.Contains(r.Methods(), m)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s MethodSettings %s %s (path %s) matches no route of httpapi.Table", where(s), id, m, rp, path)
			}
		}
	}
}

// TestFunctionGuards: every function has its own IAM policy without wildcard
// actions and a log group with retention (its alarms: TestAlarms).
func TestFunctionGuards(t *testing.T) {
	tp := loadTemplate(t)
	tp.eachFunction(func(f, id string, fn *yaml.Node) {
		props := get(fn, "Properties")

		pol := get(props, "Policies")
		if httpapi.PagesOnly(f) {
			// Least privilege for pages: nothing beyond its own logs, which
			// SAM grants every function.
			if pol != nil {
				t.Errorf("%s: %s only serves pages (no store, no key, no messages) and must have no Policies", where(pol), id)
			}
		} else if pol == nil || pol.Kind != yaml.SequenceNode || len(pol.Content) == 0 {
			t.Errorf("%s: %s has no Policies: give it the DynamoDB actions it uses on the table", where(fn), id)
		} else {
			walk(pol, func(n *yaml.Node) {
				if a := get(n, "Action"); a != nil {
					for _, act := range scalars(a) {
						if strings.Contains(act, "*") {
							t.Errorf("%s: %s grants wildcard action %q; list the actions it calls", where(a), id, act)
						}
					}
				}
			})
		}

		lg := ref(get(get(props, "LoggingConfig"), "LogGroup"))
		switch {
		case lg == "":
			t.Errorf("%s: %s has no LoggingConfig.LogGroup: !Ref its AWS::Logs::LogGroup", where(fn), id)
		case scalar(get(tp.resources[lg], "Type")) != "AWS::Logs::LogGroup":
			t.Errorf("%s: %s logs to %s, which is not an AWS::Logs::LogGroup of the template", where(fn), id, lg)
		case get(get(tp.resources[lg], "Properties"), "RetentionInDays") == nil:
			t.Errorf("%s: log group %s of %s has no RetentionInDays", where(tp.resources[lg]), lg, id)
		}
	})
}

// TestGlobalsEnvironment: the configuration the functions get from
// Globals, with every parameter at its default, is one the application
// loads, reading every variable the template sets (a misspelt name would
// silently leave a setting at its default), and the optional limits left
// empty mean the application's defaults.
func TestGlobalsEnvironment(t *testing.T) {
	tp := loadTemplate(t)
	vars := get(get(tp.globals, "Environment"), "Variables")
	if vars == nil || vars.Kind != yaml.MappingNode {
		t.Fatal("template.yaml: no Globals.Function.Environment.Variables")
	}
	// param resolves a parameter to its default; parameters without one
	// (EmailFrom) and resources get a stand-in.
	overrides := map[string]string{}
	param := func(name string) string {
		if v, ok := overrides[name]; ok {
			return v
		}
		p := get(tp.params, name)
		if p == nil {
			return "stand-in-for-" + name // a resource: table name, secret ARN
		}
		if d := get(p, "Default"); d != nil {
			return d.Value
		}
		return "noreply@ekolek.example.org"
	}
	placeholder := regexp.MustCompile(`\$\{([A-Za-z0-9:.]+)\}`)
	// value resolves a variable's value: a scalar, !Ref, !Sub, or !If on
	// one of the template's conditions, evaluated (condition) with the
	// parameters at their defaults.
	var value func(v *yaml.Node) (string, bool)
	var condition func(n *yaml.Node) (bool, bool)
	value = func(v *yaml.Node) (string, bool) {
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!Ref":
			return param(v.Value), true
		case v.Kind == yaml.ScalarNode && v.Tag == "!Sub":
			return placeholder.ReplaceAllStringFunc(v.Value, func(m string) string { return param(m[2 : len(m)-1]) }), true
		case v.Kind == yaml.SequenceNode && v.Tag == "!If" && len(v.Content) == 3:
			holds, ok := condition(get(tp.conds, v.Content[0].Value))
			if !ok {
				return "", false
			}
			if holds {
				return value(v.Content[1])
			}
			return value(v.Content[2])
		case v.Kind == yaml.ScalarNode && (scalar(v) != "" || v.Tag == "!!str"):
			return v.Value, true
		}
		return "", false
	}
	condition = func(n *yaml.Node) (bool, bool) {
		switch {
		case n == nil:
		case n.Tag == "!Not" && len(n.Content) == 1:
			holds, ok := condition(n.Content[0])
			return !holds, ok
		case n.Tag == "!Equals" && len(n.Content) == 2:
			a, okA := value(n.Content[0])
			b, okB := value(n.Content[1])
			return a == b, okA && okB
		case n.Tag == "!Condition":
			return condition(get(tp.conds, n.Value))
		}
		return false, false
	}
	env := map[string]string{}
	for i := 0; i+1 < len(vars.Content); i += 2 {
		name, v := vars.Content[i].Value, vars.Content[i+1]
		var ok bool
		if env[name], ok = value(v); !ok {
			t.Errorf("%s: Globals variable %s: a value this test cannot resolve", where(v), name)
		}
	}
	read := map[string]bool{}
	cfg, err := config.Load(func(k string) string { read[k] = true; return env[k] })
	if err != nil {
		t.Fatalf("the application refuses the template's default configuration: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if !read[name] {
			t.Errorf("Globals sets %s, which the configuration never reads", name)
		}
	}
	if cfg.Limits != throttle.DefaultLimits {
		t.Errorf("the template's default limits are %+v, the application's %+v", cfg.Limits, throttle.DefaultLimits)
	}
	if cfg.WebAuthnRPID != config.DefaultWebAuthnRPID || !cfg.AdminMFARequired {
		t.Errorf("the template's defaults: passkeys' relying party %q, admins' second factor required %v; want %q, true",
			cfg.WebAuthnRPID, cfg.AdminMFARequired, config.DefaultWebAuthnRPID)
	}
	// With a custom domain, passkeys are that domain's.
	overrides["DomainName"] = "id.ekolek.example.org"
	rpID, _ := value(get(vars, "EKOLEK_WEBAUTHN_RP_ID"))
	origins, _ := value(get(vars, "EKOLEK_WEBAUTHN_ORIGINS"))
	if rpID != "id.ekolek.example.org" || origins != "https://id.ekolek.example.org" {
		t.Errorf("with DomainName set, passkeys' relying party %q and origins %q; want the domain", rpID, origins)
	}
	if !slices.Equal(cfg.Barangays, config.DefaultBarangays) {
		t.Errorf("the template's default barangay directory is %q, the application's %q", cfg.Barangays, config.DefaultBarangays)
	}
	days, err := strconv.Atoi(param("AuditRetentionDays"))
	if err != nil {
		t.Fatalf("AuditRetentionDays default: %v", err)
	}
	if want := time.Duration(days) * 24 * time.Hour; cfg.AuditRetention != want {
		t.Errorf("AuditRetentionDays %d gives an audit retention of %v, want %v", days, cfg.AuditRetention, want)
	}
}

// walk calls fn on n and every node below it; a nil n (a key the template
// lacks) has none.
func walk(n *yaml.Node, fn func(*yaml.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

// TestMakefileBuildTargets: SAM builds each function with
// `make build-<LogicalId>` and ARTIFACTS_DIR set. make itself says (dry run)
// what the target would run, however the Makefile generates its targets.
func TestMakefileBuildTargets(t *testing.T) {
	bin, err := exec.LookPath("make")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is not on PATH")
		}
		t.Skip("make is not on PATH: the build-<LogicalId> targets were not checked")
	}
	artifacts := t.TempDir()
	for _, f := range app.Functions() {
		target := "build-" + logicalID(f)
		cmd := exec.CommandContext(t.Context(), bin, "-n", "-s", target, "ARTIFACTS_DIR="+artifacts)
		cmd.Dir = root(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make %s (sam build runs it for function %q): %v\n%s", target, f, err, out)
			continue
		}
		fields := strings.Fields(string(out))
		for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-o", filepath.Join(artifacts, "bootstrap"), "./functions/" + f} {
			if !slices.Contains(fields, want) {
				t.Errorf("make %s must build ./functions/%s for linux/arm64 into $(ARTIFACTS_DIR)/bootstrap; it runs %q (no %q)", target, f, strings.TrimSpace(string(out)), want)
			}
		}
	}
}

// ---------------------------------------------------------------- events/

var eventName = regexp.MustCompile(`^([a-z0-9]+(?:-[a-z0-9]+)*)\.([a-z0-9]+(?:-[a-z0-9]+)*)\.json$`)

// Documentation ranges (RFC 5737, RFC 3849): no real client's address ends up in the repository.
var docNets = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// TestEventFiles: every file in events/ is a realistic API Gateway REST
// (v1 payload) event for a route of the function its name says, and every
// function and every route has at least one.
func TestEventFiles(t *testing.T) {
	dir := filepath.Join(root(t), "events")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("events/: %v", err)
	}
	functions := httpapi.Functions()
	perFunction := map[string]int{}
	perRoute := map[string]int{}
	for _, e := range entries {
		name := e.Name()
		m := eventName.FindStringSubmatch(name)
		if m == nil || e.IsDir() {
			t.Errorf("events/%s: not an event file; name event files <function>.<case>.json, e.g. login.resident.json or admin-residents.approve.json", name)
			continue
		}
		fn := m[1]
		if _, background := app.Background[fn]; background {
			continue // a stream event: TestStreamEventFiles
		}
		if !slices.Contains(functions, fn) {
			t.Errorf("events/%s: %q is not a function of httpapi.Table (functions: %s)", name, fn, strings.Join(functions, ", "))
			continue
		}
		perFunction[fn]++
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		r, errs := checkEvent(fn, data)
		for _, err := range errs {
			t.Errorf("events/%s: %v", name, err)
		}
		if r != nil {
			perRoute[routeKey(r.Method, r.Path)]++
		}
	}
	for _, f := range functions {
		if perFunction[f] == 0 {
			t.Errorf("function %q has no event file: add events/%s.<case>.json", f, f)
		}
	}
	for _, r := range lambdaRoutes() {
		if k := routeKey(r.Method, r.Path); perRoute[k] == 0 {
			t.Errorf("route %s has no event file: add events/%s.<case>.json for it", k, r.Function)
		}
	}
}

// checkEvent checks one event file of function fn and returns the route it is for.
func checkEvent(fn string, data []byte) (*httpapi.Route, []error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var ev events.APIGatewayProxyRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field would silently be empty
	if err := dec.Decode(&ev); err != nil {
		return nil, []error{fmt.Errorf("not an API Gateway REST proxy event: %w", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []error{errors.New("trailing data after the event object")}
	}

	var route *httpapi.Route
	var others []string
	for i, r := range httpapi.Table {
		if r.LocalOnly || r.Function != fn {
			continue
		}
		if slices.Contains(r.Methods(), ev.HTTPMethod) && r.Path == ev.Resource {
			route = &httpapi.Table[i]
		}
		others = append(others, routeKey(r.Method, r.Path))
	}
	if route == nil {
		fail("resource %q with httpMethod %q is not a route of function %q (its routes: %s)", ev.Resource, ev.HTTPMethod, fn, strings.Join(others, "; "))
		return nil, errs
	}

	params, err := matchPath(route.Path, ev.Path)
	if err != nil {
		fail("path %q does not match resource %s: %v", ev.Path, route.Path, err)
	} else {
		if !maps.Equal(params, ev.PathParameters) {
			fail("pathParameters %v, but path %q under %s gives %v", ev.PathParameters, ev.Path, route.Path, params)
		}
		if realm, ok := params["realm"]; ok && !slices.Contains(route.Realms, account.Realm(realm)) {
			fail("realm %q is not one of the route's realms %v", realm, route.Realms)
		}
	}

	rc := ev.RequestContext
	if rc.ResourcePath != ev.Resource {
		fail("requestContext.resourcePath %q differs from resource %q", rc.ResourcePath, ev.Resource)
	}
	if rc.HTTPMethod != ev.HTTPMethod {
		fail("requestContext.httpMethod %q differs from httpMethod %q", rc.HTTPMethod, ev.HTTPMethod)
	}
	if rc.Stage == "" {
		fail("requestContext.stage is empty")
	} else if want := "/" + rc.Stage + ev.Path; rc.Path != want {
		fail("requestContext.path is %q, want %q (stage, then path)", rc.Path, want)
	}
	for field, v := range map[string]string{"requestId": rc.RequestID, "apiId": rc.APIID, "domainName": rc.DomainName} {
		if v == "" {
			fail("requestContext.%s is empty", field)
		}
	}
	if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(rc.AccountID) {
		fail("requestContext.accountId %q is not a 12-digit account id", rc.AccountID)
	}
	if rc.RequestTimeEpoch < time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() {
		fail("requestContext.requestTimeEpoch %d is not a time in milliseconds", rc.RequestTimeEpoch)
	}
	if ip, err := netip.ParseAddr(rc.Identity.SourceIP); err != nil {
		fail("requestContext.identity.sourceIp %q is not an IP address", rc.Identity.SourceIP)
	} else if !slices.ContainsFunc(docNets, func(p netip.Prefix) bool { return p.Contains(ip) }) {
		fail("requestContext.identity.sourceIp %s is not a documentation address (use 203.0.113.x or 198.51.100.x)", ip)
	}
	if ua := header(ev.Headers, "User-Agent"); ua == "" || rc.Identity.UserAgent != ua {
		fail("requestContext.identity.userAgent %q must equal the User-Agent header %q", rc.Identity.UserAgent, ua)
	}

	// The proxy adapter reads the multi-value maps; tests may read either.
	if err := sameValues(ev.Headers, ev.MultiValueHeaders); err != nil {
		fail("headers and multiValueHeaders disagree: %v", err)
	}
	if err := sameValues(ev.QueryStringParameters, ev.MultiValueQueryStringParameters); err != nil {
		fail("queryStringParameters and multiValueQueryStringParameters disagree: %v", err)
	}

	if ev.IsBase64Encoded {
		fail("isBase64Encoded is true; JSON bodies are sent as text")
	}
	if ev.Body != "" && !json.Valid([]byte(ev.Body)) {
		fail("body is not valid JSON: %q", ev.Body)
	}
	switch ev.HTTPMethod {
	case http.MethodGet, http.MethodHead:
		if ev.Body != "" {
			fail("a %s request has a body", ev.HTTPMethod)
		}
	default:
		// A body without it is answered 415 and the event exercises
		// nothing; a bodyless request needs none, as a browser sends none.
		if mt, _, err := mime.ParseMediaType(header(ev.Headers, "Content-Type")); ev.Body != "" && (err != nil || mt != "application/json") {
			fail("a %s event with a body needs the header Content-Type: application/json", ev.HTTPMethod)
		}
	}
	return route, errs
}

// matchPath matches a concrete path against a resource path and returns its
// parameters. A last segment {name+} (API Gateway's greedy parameter) takes
// the rest of the path, one segment or more.
func matchPath(resource, path string) (map[string]string, error) {
	rs, ps := strings.Split(resource, "/"), strings.Split(path, "/")
	if last := rs[len(rs)-1]; strings.HasSuffix(last, "+}") && len(ps) >= len(rs) {
		n := len(rs) - 1
		ps = append(ps[:n:n], strings.Join(ps[n:], "/"))
		rs[n] = strings.TrimSuffix(last, "+}") + "}"
	}
	if len(rs) != len(ps) {
		return nil, fmt.Errorf("%d segments, want %d", len(ps), len(rs))
	}
	var params map[string]string
	for i, seg := range rs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if ps[i] == "" {
				return nil, fmt.Errorf("segment %s is empty", seg)
			}
			if params == nil {
				params = map[string]string{}
			}
			params[seg[1:len(seg)-1]] = ps[i]
			continue
		}
		if seg != ps[i] {
			return nil, fmt.Errorf("segment %d is %q, want %q", i, ps[i], seg)
		}
	}
	return params, nil
}

// header looks a header up by name, ignoring case as HTTP does.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// sameValues checks that single maps to the last value of each key of multi,
// as API Gateway fills them.
func sameValues(single map[string]string, multi map[string][]string) error {
	var diffs []string
	for k, v := range single {
		mv := multi[k]
		if len(mv) == 0 || mv[len(mv)-1] != v {
			diffs = append(diffs, fmt.Sprintf("%s: %q vs %q", k, v, mv))
		}
	}
	for k := range multi {
		if _, ok := single[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s only in the multi-value map", k))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func TestMatchPath(t *testing.T) {
	for _, c := range []struct {
		resource, path string
		want           map[string]string
		ok             bool
	}{
		{"/v1/{realm}/login", "/v1/admin/login", map[string]string{"realm": "admin"}, true},
		{"/v1/resident/register", "/v1/resident/register", nil, true},
		{"/v1/admin/residents/{id}/{action}", "/v1/admin/residents/abc/approve", map[string]string{"id": "abc", "action": "approve"}, true},
		{"/v1/{realm}/login", "/v1/admin/logout", nil, false},
		{"/v1/{realm}/login", "/v1//login", nil, false},
		{"/v1/{realm}/login", "/v1/admin/login/x", nil, false},
		{"/{proxy+}", "/login", map[string]string{"proxy": "login"}, true},
		{"/{proxy+}", "/admin/residents/abc", map[string]string{"proxy": "admin/residents/abc"}, true},
		{"/{proxy+}", "/", nil, false},
		{"/", "/", nil, true},
		{"/", "/login", nil, false},
	} {
		got, err := matchPath(c.resource, c.path)
		if (err == nil) != c.ok || !maps.Equal(got, c.want) {
			t.Errorf("matchPath(%q, %q) = %v, %v; want %v, ok=%v", c.resource, c.path, got, err, c.want, c.ok)
		}
	}
}

// TestCheckEventRejects makes sure the event check can fail: each broken
// variant of a good event must be reported.
func TestCheckEventRejects(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"resource": "/v1/{realm}/login", "path": "/v1/admin/login", "httpMethod": "POST",
			"headers":           map[string]any{"Content-Type": "application/json", "User-Agent": "ua"},
			"multiValueHeaders": map[string]any{"Content-Type": []any{"application/json"}, "User-Agent": []any{"ua"}},
			"pathParameters":    map[string]any{"realm": "admin"},
			"requestContext": map[string]any{
				"resourcePath": "/v1/{realm}/login", "httpMethod": "POST", "path": "/prod/v1/admin/login", "stage": "prod",
				"requestId": "r", "apiId": "a", "domainName": "d", "accountId": "123456789012", "requestTimeEpoch": 1773300000000,
				"identity": map[string]any{"sourceIp": "203.0.113.9", "userAgent": "ua"},
			},
			"body": `{"identifier":"x","password":"y"}`, "isBase64Encoded": false,
		}
	}
	encode := func(m map[string]any) []byte {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, errs := checkEvent("login", encode(good())); len(errs) > 0 {
		t.Fatalf("good event rejected: %v", errs)
	}
	rc := func(m map[string]any) map[string]any { return m["requestContext"].(map[string]any) }
	for name, breakIt := range map[string]func(m map[string]any){
		"wrong function route": func(m map[string]any) { m["resource"] = "/v1/{realm}/session" },
		"unknown realm": func(m map[string]any) {
			m["path"] = "/v1/staff/login"
			m["pathParameters"] = map[string]any{"realm": "staff"}
		},
		"path params differ": func(m map[string]any) { m["pathParameters"] = map[string]any{"realm": "resident"} },
		"path off resource":  func(m map[string]any) { m["path"] = "/v1/admin/logout" },
		"context path":       func(m map[string]any) { rc(m)["path"] = "/v1/admin/login" },
		"real ip":            func(m map[string]any) { rc(m)["identity"] = map[string]any{"sourceIp": "8.8.8.8", "userAgent": "ua"} },
		"bad body":           func(m map[string]any) { m["body"] = `{"identifier":` },
		"no content type": func(m map[string]any) {
			m["headers"] = map[string]any{"User-Agent": "ua"}
			m["multiValueHeaders"] = map[string]any{"User-Agent": []any{"ua"}}
		},
		"HEAD on a POST route": func(m map[string]any) {
			m["httpMethod"], rc(m)["httpMethod"], m["body"] = "HEAD", "HEAD", ""
		},
		"headers disagree": func(m map[string]any) { m["multiValueHeaders"] = map[string]any{"User-Agent": []any{"ua"}} },
		"misspelt field":   func(m map[string]any) { m["pathParameter"] = map[string]any{} },
		"base64":           func(m map[string]any) { m["isBase64Encoded"] = true },
	} {
		m := good()
		breakIt(m)
		if _, errs := checkEvent("login", encode(m)); len(errs) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}
