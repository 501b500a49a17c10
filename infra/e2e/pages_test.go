package e2e

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// violation is one axe-core rule a page breaks.
type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axe runs axe-core (node_modules/axe-core, pinned in package.json) in the
// page as it is now and fails on any serious or critical violation.
// Without the package it fails under CI=true and skips the check otherwise.
func (tb *tab) axe(state string) {
	tb.t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(repoFile(tb.t, "node_modules/axe-core/axe.min.js"))
		axeSource = string(b)
	})
	if axeErr != nil {
		if os.Getenv("CI") == "true" {
			tb.t.Fatalf("axe-core: %v (npm ci installs it)", axeErr)
		}
		tb.t.Logf("axe-core not installed (%v): %s not checked; npm ci installs it", axeErr, state)
		return
	}
	if !eval[bool](tb, `typeof axe === 'object'`) {
		// Injected by the protocol, which the page's CSP does not govern.
		eval[bool](tb, axeSource+";true")
	}
	found := eval[[]violation](tb, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))`)
	for _, v := range found {
		tb.t.Errorf("%s: axe %s (%s): %s: %s", state, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
	}
}

// setLanguage chooses a language with the header's select, as a person does.
func (tb *tab) setLanguage(lang string) {
	tb.t.Helper()
	eval[bool](tb, `(() => { const s = document.querySelector('select[name="lang"]'); s.value = '`+lang+`'; s.dispatchEvent(new Event('change')); return true })()`)
	tb.waitFor("lang "+lang, `document.documentElement.lang === '`+lang+`'`)
}

var sizes = []struct {
	name string
	w, h int64
}{{"desktop", 1280, 800}, {"phone", 390, 844}}

// check runs axe on the page in both languages, checks that nothing is
// wider than a 360 px screen, and screenshots it in both languages at both
// sizes; it leaves the page in English at desktop size.
func (tb *tab) check(state string) {
	tb.t.Helper()
	for _, lang := range []string{"fil", "en"} {
		tb.setLanguage(lang)
		if missing := eval[[]string](tb, `[...document.querySelectorAll('[data-i18n]')].filter(e => e.textContent === e.dataset.i18n).map(e => e.dataset.i18n)`); len(missing) > 0 {
			tb.t.Errorf("%s (%s): texts without a translation: %v", state, lang, missing)
		}
		tb.axe(state + " (" + lang + ")")
		// The narrowest phone the pages are made for: nothing sticks out.
		tb.do(chromedp.EmulateViewport(360, 740))
		if wide := eval[[]string](tb, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.visually-hidden, .skip-link')).map(e => e.tagName + (e.className ? '.' + e.className : ''))`); len(wide) > 0 {
			tb.t.Errorf("%s (%s): wider than a 360 px screen: %v", state, lang, wide)
		}
		for _, sz := range sizes {
			tb.do(chromedp.EmulateViewport(sz.w, sz.h))
			tb.screenshot(fmt.Sprintf("%s-%s-%s", state, lang, sz.name))
		}
		tb.do(chromedp.EmulateViewport(1280, 800))
	}
}

// Every page, in the states a person meets it in, has no serious or
// critical axe-core violation in either language, reads at 360 px, and is
// screenshot at 1280×800 and 390×844 in both languages.
func TestEveryPageIsAccessible(t *testing.T) {
	sys := startSystem(t)
	juan := sys.resident("Juan", "juan@example.com", "0917 123 4567")
	sys.admin("boss", "super_admin")
	sys.scopedAdmin("ops", "Landayan")
	sys.pendingResident("Maria", "maria@example.com", "0918 555 0142")
	b := startBrowser(t, sys)
	tb := b.tab("pages")

	tb.open("/login", "login")
	tb.check("login")
	tb.fill("login", "identifier", "juan@example.com")
	tb.fill("login", "password", "not the password at all")
	tb.submit("login")
	tb.errorShown("invalid_credentials")
	tb.check("login-error")

	tb.open("/register", "register")
	tb.waitFor("barangays", `document.querySelectorAll('select[name="barangay"] option').length > 1`)
	tb.check("register")
	tb.fill("register", "first_name", "Maria")
	tb.fill("register", "email", "not an email")
	tb.fill("register", "password", "password123")
	tb.submit("register")
	tb.errorShown("invalid_request")
	tb.check("register-error")

	tb.open("/login?notice=signed_out", "login")
	tb.notice("signed_out")
	tb.check("login-signed-out")

	tb.open("/verify?notice=registered&identifier=juan%40example.com", "verify")
	tb.notice("registered")
	tb.check("verify")

	tb.open("/reset", "reset")
	tb.check("reset-request")
	tb.fill("reset-request", "identifier", "juan@example.com")
	tb.submit("reset-request")
	tb.waitFor("step 2", `!document.querySelector('[data-step="verify"]').hidden`)
	tb.check("reset-code")
	tb.fill("reset-verify", "code", sys.lastCode("juan@example.com"))
	tb.submit("reset-verify")
	tb.waitFor("step 3", `!document.querySelector('[data-step="confirm"]').hidden`)
	tb.fill("reset-confirm", "new_password", "short")
	tb.submit("reset-confirm")
	tb.errorShown("weak_password")
	tb.check("reset-new-password")

	tb.login("resident", "juan@example.com", residentPassword, false)
	tb.waitFor("devices", `document.querySelector('[data-session-id]')`)
	tb.check("account")

	other := b.tab("admin")
	other.open("/admin/login?notice=session_expired&next=%2Fadmin%2Faccount", "admin-login")
	other.notice("session_expired")
	other.check("admin-login")
	other.login("admin", "boss", adminPassword, false)
	checkConsole(sys, b, other, juan)

	other.open("/no/such/page", "not-found")
	other.check("not-found")
	tb.noErrors("/v1/resident/login", "/v1/resident/register", "/v1/resident/password-reset/confirm")
	other.noErrors("/no/such/page", "/v1/admin/mfa/totp/confirm")
}

// The first load of /login, in a browser with nothing cached, transfers at
// most 60 KB in total (headers included, nothing compressed) and asks no
// other origin for anything.
func TestLoginPageWeight(t *testing.T) {
	sys := startSystem(t)
	tb := startBrowser(t, sys).tab("weight")
	var mu sync.Mutex
	var urls, failures []string
	var total float64
	finished := 0
	if err := chromedp.Listen(tb.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls = append(urls, ev.Request.URL)
		case *network.EventLoadingFinished:
			total += ev.EncodedDataLength
			finished++
		case *network.EventLoadingFailed:
			failures = append(failures, ev.ErrorText)
		}
	}); err != nil {
		t.Fatal(err)
	}
	tb.open("/login", "login")
	// Let what the page starts late (its session check) finish.
	tb.waitFor("quiet", `performance.getEntriesByType('resource').every(e => e.responseEnd > 0)`)
	time.Sleep(300 * time.Millisecond)

	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures {
		t.Errorf("a request failed: %s", f)
	}
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || p.Scheme+"://"+p.Host != sys.url {
			t.Errorf("a request to another origin: %s", u)
		}
	}
	t.Logf("first load of /login: %d requests, %.1f KB: %s", len(urls), total/1024, strings.Join(urls, " "))
	if finished != len(urls) || finished < 6 {
		t.Errorf("%d requests sent, %d finished; want the page, its stylesheet, icon and scripts", len(urls), finished)
	}
	if total > 60*1024 {
		t.Errorf("the first load of /login transfers %.1f KB, more than 60 KB", total/1024)
	}
}
