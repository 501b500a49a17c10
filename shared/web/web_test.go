package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
)

func site(t *testing.T) *Site {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, s *Site, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

var assetRef = regexp.MustCompile(`(?:/assets/|\./)([A-Za-z0-9_./-]+)(\?v=[A-Za-z0-9_-]+)?["']`)

// Every page is served with the pages' CSP, revalidated on every use, and
// names every asset with its current fingerprint; an asset asked for with
// that fingerprint is cached for a year, without it revalidated.
func TestPagesAndAssetsAreServedWithTheirHeaders(t *testing.T) {
	s := site(t)
	for _, p := range Pages {
		target := strings.ReplaceAll(p.Path, "{id}", "abc123")
		w := get(t, s, target)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", target, w.Code)
		}
		h := w.Header()
		if h.Get("Content-Security-Policy") != CSP || h.Get("Cache-Control") != "no-cache" || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: headers %v", target, h)
		}
		body := w.Body.String()
		if !strings.Contains(body, `data-page="`+p.Name+`"`) || !strings.Contains(body, `name="lang"`) {
			t.Errorf("GET %s: no main[data-page=%s] or language select", target, p.Name)
		}
		if p.Realm != "" && !strings.Contains(body, `data-realm="`+p.Realm+`"`) {
			t.Errorf("GET %s: not marked as realm %s", target, p.Realm)
		}
		if p.SignedIn != strings.Contains(body, `data-action="logout"`) {
			t.Errorf("GET %s: a sign-out button exactly on signed-in pages (SignedIn %v)", target, p.SignedIn)
		}
		checkRefs(t, s, target, body)
		if w := get(t, s, target, "If-None-Match", h.Get("ETag")); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("GET %s with its ETag: %d, want 304 without a body", target, w.Code)
		}
	}
	for name, f := range s.assets {
		w := get(t, s, s.AssetURL(name))
		if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || w.Header().Get("Content-Type") != f.ctype {
			t.Errorf("GET %s: %d %v", s.AssetURL(name), w.Code, w.Header())
		}
		if path.Ext(name) == ".js" || path.Ext(name) == ".css" {
			checkRefs(t, s, name, w.Body.String())
		}
		for _, stale := range []string{"/assets/" + name, "/assets/" + name + "?v=stale", s.AssetURL(name) + "&v=2"} {
			if w := get(t, s, stale); w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("GET %s: %d %q, want the asset, revalidated", stale, w.Code, w.Header().Get("Cache-Control"))
			}
		}
	}
}

// checkRefs: every asset body refers to exists and carries its fingerprint.
func checkRefs(t *testing.T, s *Site, where, body string) {
	t.Helper()
	for _, m := range assetRef.FindAllStringSubmatch(body, -1) {
		f := s.assets[m[1]]
		if f == nil || m[2] != "?v="+f.hash {
			t.Errorf("%s refers to %s%s, want a fingerprinted asset", where, m[1], m[2])
		}
	}
}

// A fingerprint covers what the file refers to: changing an imported module
// changes the URL of every module importing it, so a cached page never
// pairs a new module with an old one.
func TestFingerprintsFollowImports(t *testing.T) {
	files := func(api string) fstest.MapFS {
		return fstest.MapFS{
			"pages/layout.html":     {Data: []byte(`{{template "main" .}}<script type="module" src="/assets/{{.Script}}"></script>`)},
			"pages/notfound.html":   {Data: []byte(`{{define "title"}}x{{end}}{{define "main"}}<a href="/">home</a>{{end}}`)},
			"pages/partials/x.html": {Data: []byte(`{{define "x"}}{{end}}`)},
			"assets/page.js":        {Data: []byte(`import { x } from './api.js';`)},
			"assets/api.js":         {Data: []byte(api)},
		}
	}
	saved := Pages
	Pages = nil
	defer func() { Pages = saved }()
	a, err := newSite(files("export const x = 1;"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSite(files("export const x = 2;"))
	if err != nil {
		t.Fatal(err)
	}
	if a.AssetURL("page.js") == b.AssetURL("page.js") || a.AssetURL("api.js") == b.AssetURL("api.js") {
		t.Fatalf("page.js %s and %s: an import changed, the importer's fingerprint did not", a.AssetURL("page.js"), b.AssetURL("page.js"))
	}
	if !bytes.Contains(b.assets["page.js"].body, []byte(b.AssetURL("api.js")[len("/assets/"):])) {
		t.Fatalf("page.js does not import api.js by its fingerprint: %s", b.assets["page.js"].body)
	}
	broken := files("")
	broken["assets/page.js"] = &fstest.MapFile{Data: []byte(`import { x } from './nope.js';`)}
	if _, err := newSite(broken); err == nil || !strings.Contains(err.Error(), "nope.js") {
		t.Fatalf("a module importing a missing one: %v, want an error naming it", err)
	}
	loop := files(`import './page.js';`)
	if _, err := newSite(loop); err == nil {
		t.Fatal("modules importing each other were fingerprinted")
	}
}

// Unknown paths are a real 404 page; so are directories and asset paths
// that are not files.
func TestUnknownPathsAreANotFoundPage(t *testing.T) {
	s := site(t)
	for _, p := range []string{"/nope", "/login/", "/account/x", "/assets/", "/assets/nope.js", "/assets/../pages/login.html", "/admin", "/LOGIN"} {
		w := get(t, s, p)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `data-page="not-found"`) || w.Header().Get("Content-Security-Policy") != CSP {
			t.Errorf("GET %s: %d, want the not-found page", p, w.Code)
		}
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /login: %d %v", w.Code, w.Header())
	}
}

// Pages and Pages' files agree: no page file is left out of the table.
func TestEveryPageFileIsServed(t *testing.T) {
	named := map[string]bool{notFound.File: true, "layout.html": true}
	for _, p := range Pages {
		named[p.File] = true
	}
	err := fs.WalkDir(files, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "pages/partials/") {
			return err
		}
		if !named[strings.TrimPrefix(p, "pages/")] {
			t.Errorf("%s is not in Pages", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// What the CSP and the rules of the pages forbid, checked in the sources:
// no inline script or style, no handler attributes, nothing from another
// origin, no browser dialogs; every form posts JSON to the API through its
// data-form hook, every named input has a label; no file over 500 lines.
func TestSourcesKeepTheRules(t *testing.T) {
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	forbidden := map[string]*regexp.Regexp{
		"a style attribute":         regexp.MustCompile(`\sstyle=`),
		"a <style> element":         regexp.MustCompile(`<style[\s>]`),
		"an event handler":          regexp.MustCompile(`\son[a-z]+=`),
		"another origin":            regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`),
		"a browser dialog":          regexp.MustCompile(`\b(?:alert|confirm|prompt)\(`),
		"innerHTML (text is added)": regexp.MustCompile(`\.(?:inner|outer)HTML\b|insertAdjacentHTML`),
	}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		src := string(b)
		if n := strings.Count(src, "\n"); n > 500 {
			t.Errorf("%s has %d lines, more than 500", p, n)
		}
		for what, re := range forbidden {
			if loc := re.FindStringIndex(src); loc != nil && !(what == "another origin" && strings.HasSuffix(p, ".svg")) {
				t.Errorf("%s has %s: %q", p, what, src[loc[0]:min(loc[1]+20, len(src))])
			}
		}
		if strings.HasSuffix(p, ".html") {
			for _, tag := range inlineScript.FindAllString(src, -1) {
				if !strings.Contains(tag, ` src="`) || !strings.Contains(tag, `type="module"`) {
					t.Errorf("%s: %s is not a module loaded from a file", p, tag)
				}
			}
			checkForms(t, p, src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var (
	formTag  = regexp.MustCompile(`<form\s[^>]*>`)
	inputTag = regexp.MustCompile(`<(?:input|select|textarea)\s[^>]*>`)
	attr     = func(tag, name string) string {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return ""
		}
		return m[1]
	}
)

func checkForms(t *testing.T, p, src string) {
	t.Helper()
	for _, f := range formTag.FindAllString(src, -1) {
		// A filter is a GET of the page itself (the filters stay in the
		// address); every other form posts to the API.
		filter := attr(f, "method") == "get" && strings.HasSuffix(attr(f, "data-form"), "-filter") && strings.HasPrefix(attr(f, "action"), "/admin/")
		if attr(f, "data-form") == "" || !filter && (!strings.HasPrefix(attr(f, "action"), "/v1/") || attr(f, "method") != "post") {
			t.Errorf("%s: %s: a form needs data-form, an action under /v1/ and method post (a *-filter form: GET of its page)", p, f)
		}
		if filter && strings.Contains(src, `type="password"`) {
			t.Errorf("%s: a GET form on a page with a password input", p)
		}
	}
	for _, in := range inputTag.FindAllString(src, -1) {
		id, typ := attr(in, "id"), attr(in, "type")
		if typ == "hidden" || strings.Contains(in, " hidden") {
			continue
		}
		if attr(in, "name") == "" || id == "" || !strings.Contains(src, `for="`+id+`"`) {
			t.Errorf("%s: %s has no name, no id or no label", p, in)
		}
	}
}

// i18n.js holds every text in English and Filipino: every key the pages
// and modules use, every error code the API answers with, every reason a
// password is refused for, every status and role; the English of the
// table is the text the HTML carries before the script runs.
func TestEveryTextInBothLanguages(t *testing.T) {
	// The portal's table, the console's (loaded by console pages only) and
	// two-step sign-in's (account and enrollment pages, and the login's
	// second step once it is needed), with at least this many texts each.
	entry := regexp.MustCompile(`(?m)^\s*'([a-z0-9_.-]+)': \['((?:[^'\\]|\\.)*)', '((?:[^'\\]|\\.)*)'\],$`)
	table := map[string][2]string{}
	for _, tb := range []struct {
		name  string
		least int
	}{{"i18n.js", 100}, {"i18n-console.js", 100}, {"i18n-mfa.js", 50}} {
		name := tb.name
		src, err := fs.ReadFile(files, "assets/"+name)
		if err != nil {
			t.Fatal(err)
		}
		n := len(table)
		for _, m := range entry.FindAllStringSubmatch(string(src), -1) {
			if _, dup := table[m[1]]; dup {
				t.Errorf("%s: %s twice", name, m[1])
			}
			table[m[1]] = [2]string{m[2], m[3]}
			if m[2] == "" || m[3] == "" {
				t.Errorf("%s: %s lacks a language: %q", name, m[1], m[0])
			}
		}
		if len(table)-n < tb.least {
			t.Fatalf("read %d texts from %s; is the table's format still one line per text?", len(table)-n, name)
		}
	}
	need := func(key, where string) {
		if _, ok := table[key]; !ok {
			t.Errorf("%s uses %s, which i18n.js lacks", where, key)
		}
	}

	s := site(t)
	served := map[string]string{"not-found": string(s.notFound.body)}
	for _, p := range Pages {
		served[p.Path] = get(t, s, strings.ReplaceAll(p.Path, "{id}", "x")).Body.String()
	}
	element := regexp.MustCompile(`<([a-z0-9]+)\s[^>]*data-i18n="([^"]+)"[^>]*>([^<]*)<`)
	for where, html := range served {
		for _, m := range element.FindAllStringSubmatch(html, -1) {
			need(m[2], where)
			want := table[m[2]][0]
			if m[1] == "title" {
				want += " – E-KOLEK"
			}
			if got := strings.TrimSpace(m[3]); got != want {
				t.Errorf("%s: <%s data-i18n=%q> says %q, the table %q", where, m[1], m[2], got, want)
			}
		}
	}
	// Any string literal shaped like a key of one of the table's groups.
	literal := regexp.MustCompile(`'([a-z-]+)\.([a-z0-9_.-]+)'`)
	groups := map[string]bool{}
	for k := range table {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	err := fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		b, _ := fs.ReadFile(files, p)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			// A prefix ('console.do.' + action) is checked below, key by key.
			if groups[m[1]] && !strings.HasSuffix(m[2], ".") && !strings.HasSuffix(m[2], "_") {
				need(m[1]+"."+m[2], p)
			}
		}
		for _, m := range regexp.MustCompile(`showNotice\('([a-z_]+)'`).FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "_") {
				need("notice."+m[1], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, code := range sourceCodes(t, "../httpapi/*.go", `Code:\s+"([a-z_]+)"`) {
		if code != "account_" {
			need("error."+code, "the API (shared/httpapi)")
		}
	}
	for _, st := range []account.Status{account.StatusPending, account.StatusApproved, account.StatusRejected, account.StatusSuspended, account.StatusActive} {
		need("status."+string(st), "account statuses")
		if st != account.StatusActive && st != account.StatusApproved {
			need("error.account_"+string(st), "login refusals")
		}
	}
	for _, st := range account.ResidentStatuses {
		need("console.status."+string(st), "the console's statuses")
		if st != account.StatusPending { // no action leads back to pending
			need("notice.resident_"+string(st), "the console's status changes")
		}
	}
	for _, ty := range audit.Types {
		need("event."+string(ty), "security event types (shared/audit)")
	}
	for _, act := range []account.Action{account.ActionApprove, account.ActionReject, account.ActionSuspend, account.ActionReactivate} {
		for _, g := range []string{"console.do.", "console.confirm.", "console.effect."} {
			need(g+string(act), "resident actions (status-change.js)")
		}
	}
	for _, r := range []account.Role{account.RoleSuperAdmin, account.RoleOperationsManager, account.RoleContentRewardsManager, account.RoleSecurityAnalyst} {
		need("role."+string(r), "admin roles")
	}
	for _, r := range sourceCodes(t, "../password/strength/strength.go", `(?:r =|Reasons: \[\]string\{)\s*"([a-z_]+)"`) {
		need("reason."+r, "password reasons (shared/password/strength)")
	}
}

// sourceCodes are the first groups of re in the non-test Go files matching glob.
func sourceCodes(t *testing.T, glob, re string) []string {
	t.Helper()
	names, err := filepath.Glob(glob)
	if err != nil || len(names) == 0 {
		t.Fatalf("%s: %v", glob, err)
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s in %s", re, glob)
	}
	return out
}

// The security page's type filter offers every event type there is, and
// nothing else.
func TestSecurityPageKnowsEveryEventType(t *testing.T) {
	src, err := fs.ReadFile(files, "assets/security.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const types = \[([^\]]*)\]`).FindSubmatch(src)
	if m == nil {
		t.Fatal("security.js: no const types = [...]")
	}
	var got []string
	for _, q := range regexp.MustCompile(`'([a-z_]+)'`).FindAllSubmatch(m[1], -1) {
		got = append(got, string(q[1]))
	}
	var want []string
	for _, ty := range audit.Types {
		want = append(want, string(ty))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("security.js types %v, audit.Types %v", got, want)
	}
}
