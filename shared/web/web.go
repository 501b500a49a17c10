// Package web is the resident portal and the admin console: plain HTML, CSS
// and ES modules embedded into the binary, served by function `web` (API
// Gateway's GET / and GET /{proxy+}) and by the local API on the same
// paths, behind httpapi.API, which adds the request id and the security
// headers every answer has.
//
// No build step: the files under pages/ and assets/ are served as they are
// written, except that each page is rendered once at start-up into
// pages/layout.html (html/template), and every reference to an asset
// ("/assets/name" in a page or a stylesheet, "./name" in a module) gets the
// asset's fingerprint, "?v=<hash of its content>", computed then too. A request with the
// current fingerprint is cached for a year (immutable); pages, and assets
// asked for without it, are revalidated every time (no-cache, with an ETag).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
)

//go:embed pages assets
var files embed.FS

// CSP is the Content-Security-Policy of every page: nothing but this origin,
// no inline script or style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Cache-Control values.
const (
	revalidate = "no-cache"
	immutable  = "public, max-age=31536000, immutable"
)

// Page is one page: where it is served, what it is, and its file.
type Page struct {
	// Path is the URL path. A segment "{id}" stands for any one segment
	// (the page's script reads it from location.pathname).
	Path string
	// Name is the page's name, <main data-page="...">: the hook tests find
	// it by, and the prefix of its texts' keys in i18n.js.
	Name string
	// Realm is "resident" or "admin": the header names it and the page's
	// script talks to that realm's API ("" for a page of neither).
	Realm string
	// SignedIn pages need a session of their realm: the header has a sign
	// out button, and the page leaves for the realm's login page when the
	// session ends (here or in another tab).
	SignedIn bool
	// File is under pages/: it defines the templates "title" (plain text)
	// and "main" (the content of <main>); pages/layout.html is the rest,
	// and pages/partials/ hold templates several pages use.
	File string
	// Script is the page's module under assets/.
	Script string
	// Styles are stylesheets under assets/ the page loads after site.css
	// (and console.css on admin pages): rules only these pages use stay
	// out of every other page's first load.
	Styles []string
}

// Pages is every page. A page is added here and as pages/<File>; New fails
// when a file is missing, and the tests check that no file is left out.
var Pages = []Page{
	{Path: "/login", Name: "login", Realm: "resident", File: "login.html", Script: "login.js"},
	{Path: "/register", Name: "register", Realm: "resident", File: "register.html", Script: "register.js"},
	{Path: "/verify", Name: "verify", Realm: "resident", File: "verify.html", Script: "verify.js"},
	{Path: "/reset", Name: "reset", Realm: "resident", File: "reset.html", Script: "reset.js"},
	{Path: "/account", Name: "account", Realm: "resident", SignedIn: true, File: "account.html", Script: "account.js", Styles: mfaStyles},
	{Path: "/account/authenticator", Name: "mfa-enroll", Realm: "resident", SignedIn: true, File: "mfa-enroll.html", Script: "mfa-enroll.js", Styles: mfaStyles},
	{Path: "/admin/login", Name: "admin-login", Realm: "admin", File: "admin/login.html", Script: "login.js"},
	{Path: "/admin/reset", Name: "admin-reset", Realm: "admin", File: "admin/reset.html", Script: "admin-reset.js"},
	{Path: "/admin/", Name: "admin-residents", Realm: "admin", SignedIn: true, File: "admin/residents.html", Script: "residents.js"},
	{Path: "/admin/residents/{id}", Name: "admin-resident", Realm: "admin", SignedIn: true, File: "admin/resident.html", Script: "resident.js"},
	{Path: "/admin/admins", Name: "admin-admins", Realm: "admin", SignedIn: true, File: "admin/admins.html", Script: "admins.js"},
	{Path: "/admin/security", Name: "admin-security", Realm: "admin", SignedIn: true, File: "admin/security.html", Script: "security.js"},
	{Path: "/admin/account", Name: "admin-account", Realm: "admin", SignedIn: true, File: "admin/account.html", Script: "admin-account.js", Styles: mfaStyles},
	{Path: "/admin/account/authenticator", Name: "admin-mfa-enroll", Realm: "admin", SignedIn: true, File: "admin/mfa-enroll.html", Script: "admin-mfa-enroll.js", Styles: mfaStyles},
}

// mfaStyles are the stylesheets of the pages with two-step sign-in's QR
// code and recovery codes.
var mfaStyles = []string{"mfa.css"}

// notFound is the page of every unknown path (status 404).
var notFound = Page{Name: "not-found", File: "notfound.html", Script: "page.js"}

// realmNames are the header's names of the realms, in English; i18n.js
// has them in every language.
var realmNames = map[string]string{"resident": "Resident portal", "admin": "Admin console"}

// homes are where the header's name leads.
var homes = map[string]string{"": "/", "resident": "/", "admin": "/admin/"}

// Site serves the embedded pages and assets. It is an http.Handler for GET
// and HEAD.
type Site struct {
	pages    []servedPage
	assets   map[string]*file
	notFound *file
}

type servedPage struct {
	segs []string
	file *file
}

// file is one embedded file as served: its bytes with the fingerprints put
// in, and what its headers need.
type file struct {
	body  []byte
	ctype string
	// hash is the fingerprint: base64url of the first 9 bytes of the
	// SHA-256 of body.
	hash string
}

func (f *file) etag() string { return `"` + f.hash + `"` }

// New reads the embedded files and fingerprints the assets. It fails when a
// page or an asset refers to an asset that does not exist, when a file has
// a type it cannot serve, or when Pages names a missing file.
func New() (*Site, error) {
	return newSite(files)
}

func newSite(fsys fs.FS) (*Site, error) {
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		raw[strings.TrimPrefix(p, "assets/")] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Site{assets: map[string]*file{}}
	visiting := map[string]bool{}
	var resolve func(name string) (*file, error)
	resolve = func(name string) (*file, error) {
		if f := s.assets[name]; f != nil {
			return f, nil
		}
		if visiting[name] {
			return nil, fmt.Errorf("web: assets/%s: refers back to itself through its references", name)
		}
		visiting[name] = true
		ctype, err := contentType(name)
		if err != nil {
			return nil, err
		}
		body, err := fingerprint("assets/"+name, raw[name], raw, resolve)
		if err != nil {
			return nil, err
		}
		f := &file{body: body, ctype: ctype, hash: hashOf(body)}
		s.assets[name] = f
		return f, nil
	}
	for name := range raw {
		if _, err := resolve(name); err != nil {
			return nil, err
		}
	}
	layout, err := template.ParseFS(fsys, "pages/layout.html", "pages/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	page := func(p Page) (*file, error) {
		t, err := layout.Clone()
		if err == nil {
			t, err = t.ParseFS(fsys, "pages/"+p.File)
		}
		var html bytes.Buffer
		if err == nil {
			err = t.ExecuteTemplate(&html, "layout.html", struct {
				Page
				Home       string
				RealmNames map[string]string
			}{p, homes[p.Realm], realmNames})
		}
		if err != nil {
			return nil, fmt.Errorf("web: pages/%s: %w", p.File, err)
		}
		if _, ok := raw[p.Script]; !ok {
			return nil, fmt.Errorf("web: pages/%s: no script assets/%s", p.File, p.Script)
		}
		body, err := fingerprint("pages/"+p.File, html.Bytes(), raw, resolve)
		if err != nil {
			return nil, err
		}
		return &file{body: body, ctype: "text/html; charset=utf-8", hash: hashOf(body)}, nil
	}
	for _, p := range Pages {
		f, err := page(p)
		if err != nil {
			return nil, err
		}
		s.pages = append(s.pages, servedPage{segs: strings.Split(p.Path, "/"), file: f})
	}
	if s.notFound, err = page(notFound); err != nil {
		return nil, err
	}
	return s, nil
}

// reference is an asset named in a quoted string: "/assets/name" anywhere,
// or "./name" (a module import, relative to assets/).
var reference = regexp.MustCompile(`(["'])(/assets/|\./)([A-Za-z0-9_./-]+)(["'])`)

// fingerprint returns body with "?v=<hash>" after each asset reference. A
// reference to an asset that does not exist is an error: a typo would
// otherwise be a 404 in somebody's browser.
func fingerprint(where string, body []byte, raw map[string][]byte, resolve func(string) (*file, error)) ([]byte, error) {
	var err error
	out := reference.ReplaceAllFunc(body, func(m []byte) []byte {
		g := reference.FindSubmatch(m)
		if !bytes.Equal(g[1], g[4]) || err != nil {
			return m
		}
		name := string(g[3])
		if _, ok := raw[name]; !ok || path.Clean(name) != name {
			if string(g[2]) == "/assets/" || strings.HasSuffix(where, ".js") {
				err = fmt.Errorf("web: %s refers to %s%s, which is not a file under assets/", where, g[2], name)
			}
			return m
		}
		f, rerr := resolve(name)
		if rerr != nil {
			err = rerr
			return m
		}
		return fmt.Appendf(nil, "%s%s%s?v=%s%s", g[1], g[2], name, f.hash, g[4])
	})
	return out, err
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func contentType(name string) (string, error) {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8", nil
	case ".css":
		return "text/css; charset=utf-8", nil
	case ".svg":
		return "image/svg+xml", nil
	}
	return "", fmt.Errorf("web: assets/%s: no content type for %q", name, path.Ext(name))
}

// AssetURL is the fingerprinted URL of an asset ("api.js" →
// "/assets/api.js?v=..."), or "" when there is no such asset.
func (s *Site) AssetURL(name string) string {
	f := s.assets[name]
	if f == nil {
		return ""
	}
	return "/assets/" + name + "?v=" + f.hash
}

// ServeHTTP answers GET and HEAD: an asset, a page, or the not-found page
// with status 404.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	if name, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok {
		if f := s.assets[name]; f != nil {
			cache := revalidate
			if v := r.URL.Query()["v"]; len(v) == 1 && v[0] == f.hash {
				cache = immutable
			}
			serve(w, r, f, http.StatusOK, cache)
			return
		}
	} else if f := s.page(r.URL.Path); f != nil {
		serve(w, r, f, http.StatusOK, revalidate)
		return
	}
	serve(w, r, s.notFound, http.StatusNotFound, revalidate)
}

// page is the page served at urlPath, or nil.
func (s *Site) page(urlPath string) *file {
	segs := strings.Split(urlPath, "/")
	for _, p := range s.pages {
		if len(p.segs) != len(segs) {
			continue
		}
		match := true
		for i, seg := range p.segs {
			if seg == "{id}" && segs[i] != "" {
				continue
			}
			if seg != segs[i] {
				match = false
				break
			}
		}
		if match {
			return p.file
		}
	}
	return nil
}

func serve(w http.ResponseWriter, r *http.Request, f *file, status int, cache string) {
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag())
	if status == http.StatusOK && r.Header.Get("If-None-Match") == f.etag() {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.ctype)
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	w.WriteHeader(status)
	_, _ = w.Write(f.body)
}

// Handler is New as an http.Handler (app.Parts.Pages).
func Handler() (http.Handler, error) {
	s, err := New()
	if err != nil {
		return nil, err
	}
	return s, nil
}
