package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium with a fresh profile. Its tabs (tab,
// tab.newTab) share one browser context: cookies, storage and
// BroadcastChannel, like the tabs of one person's browser. other opens a
// tab in a new browser context: another browser.
type browser struct {
	t   *testing.T
	sys *system
	ctx context.Context // the browser's first tab, in its default context
}

func startBrowser(t *testing.T, sys *system) *browser {
	t.Helper()
	skipWithoutBrowser(t)
	exe, _ := chromium()
	profile, err := os.MkdirTemp("", "ekolek-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's children may still write to the profile for a moment.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return &browser{t: t, sys: sys, ctx: ctx}
}

// tab is one browser tab and what its pages wrote to the console.
type tab struct {
	t    *testing.T
	sys  *system
	ctx  context.Context
	name string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func (b *browser) newTab(parent context.Context, name string, opts ...chromedp.ContextOption) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	b.t.Cleanup(cancel)
	tb := &tab{t: b.t, sys: b.sys, ctx: ctx, name: name}
	msgs := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("%s: open a tab: %v", name, err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	return tb
}

// tab opens a tab in the browser's own context (its cookies).
func (b *browser) tab(name string) *tab { return b.newTab(b.ctx, name) }

// other opens a tab in a new browser context: a second browser with
// nothing in common with the first (cookies included).
func (b *browser) other(name string) *tab {
	return b.newTab(b.ctx, name, chromedp.WithNewBrowserContext())
}

// sibling opens another tab of tb's browser (context).
func (tb *tab) sibling(name string) *tab {
	b := &browser{t: tb.t, sys: tb.sys}
	return b.newTab(tb.ctx, name)
}

func (tb *tab) fatalf(format string, args ...any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('main') || document.body).innerText`))
	tb.t.Fatalf("%s (at %s): %s\npage shows:\n%.1500s", tb.name, tb.path(), fmt.Sprintf(format, args...), shown)
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fatalf("%v", err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// path is the tab's location without the origin ("" when it cannot tell).
func (tb *tab) path() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return "?"
	}
	return loc
}

// waitFor waits until the expression is true in the tab, across any
// navigation the page makes by itself.
func (tb *tab) waitFor(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.fatalf("timed out waiting for %s (%s; last error %v)", what, js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPage waits until the page named name (main[data-page]) has run its
// script (<html class="js">).
func (tb *tab) waitPage(name string) {
	tb.t.Helper()
	tb.waitFor("page "+name, fmt.Sprintf(`document.documentElement.classList.contains('js') && document.querySelector('main[data-page=%q]')`, name))
}

// open loads path and waits for page name.
func (tb *tab) open(path, page string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.sys.url + path))
	tb.waitPage(page)
}

// fill types value into the input named name (of form, when given).
func (tb *tab) fill(form, name, value string) {
	tb.t.Helper()
	sel := fmt.Sprintf(`[name=%q]`, name)
	if form != "" {
		sel = fmt.Sprintf(`form[data-form=%q] %s`, form, sel)
	}
	// What was typed before goes as a person would delete it (chromedp's
	// Clear resets the attribute, not what was typed).
	eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, sel))
	tb.do(chromedp.SendKeys(chromedp.CSS(sel), value))
}

// submit clicks the submit button of form[data-form=form].
func (tb *tab) submit(form string) {
	tb.t.Helper()
	tb.click(fmt.Sprintf(`form[data-form=%q] button[type=submit]`, form))
}

func (tb *tab) click(css string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// text is the text of the first element matching css.
func (tb *tab) text(css string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, css))
}

// notice waits for the notice [data-notice=code].
func (tb *tab) notice(code string) {
	tb.t.Helper()
	tb.waitFor("notice "+code, fmt.Sprintf(`document.querySelector('[data-notice=%q]')`, code))
}

// errorShown waits for the error summary of code: role=alert, data-error.
func (tb *tab) errorShown(code string) {
	tb.t.Helper()
	tb.waitFor("error "+code, fmt.Sprintf(`document.querySelector('[role=alert][data-error=%q]')`, code))
}

// login signs in through the realm's login page.
func (tb *tab) login(realm, identifier, pw string, remember bool) {
	tb.t.Helper()
	path, page, home := "/login", "login", "account"
	if realm == "admin" {
		path, page, home = "/admin/login", "admin-login", "admin-residents"
	}
	tb.open(path, page)
	tb.fill("login", "identifier", identifier)
	tb.fill("login", "password", pw)
	if remember {
		tb.click(`form[data-form="login"] [name="remember"]`)
	}
	tb.submit("login")
	tb.waitPage(home)
}

// sessionOf tells whether the tab's browser holds a live session of realm
// (a peek: it extends nothing).
func (tb *tab) sessionOf(realm string) bool {
	tb.t.Helper()
	return eval[int](tb, `fetch('/v1/`+realm+`/session?peek=1', {cache: 'no-store'}).then(r => r.status)`) == 200
}

// becomeVisible tells the page it is in view again, as a person coming
// back to the tab does (the page then checks its session).
func (tb *tab) becomeVisible() {
	tb.t.Helper()
	eval[bool](tb, `document.visibilityState === 'visible' && document.dispatchEvent(new Event('visibilitychange'))`)
}

// leftAlone waits until the page moved by itself to path with the notice,
// by a navigation of its own (not a reload).
func (tb *tab) movedTo(page, notice string) {
	tb.t.Helper()
	tb.waitPage(page)
	tb.notice(notice)
	if kind := eval[string](tb, `performance.getEntriesByType('navigation')[0].type`); kind != "navigate" {
		tb.fatalf("the page arrived by %q, want a navigation of its own", kind)
	}
}

// noErrors fails on anything the tab's pages wrote to the console as an
// error: exceptions, console.error and console.warn, CSP violations, and
// the browser's own log of failed requests, except for the paths in
// allowed (API refusals the test caused on purpose). The 401 of a page's
// own session check (GET .../session) is always expected.
func (tb *tab) noErrors(allowed ...string) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		expected := false
		if m.Source == "network" {
			u, err := url.Parse(m.URL)
			expected = err == nil && (strings.HasSuffix(u.Path, "/session") && strings.Contains(m.Text, "401") || slices.Contains(allowed, u.Path))
		}
		if (m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning) && !expected {
			tb.t.Errorf("%s: console %s: %s (%s:%d)", tb.name, m.Type, m.Text, m.URL, m.Line+1)
		}
	}
}

// cookies are the browser context's cookies for the system's origin.
func (tb *tab) cookies() []*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.sys.url + "/"}})
	if err != nil {
		tb.fatalf("cookies: %v", err)
	}
	return res.Cookies
}

// screenshot saves the page, whole, as <dir>/<name>.png: $EKOLEK_SCREENSHOTS
// when set, else the test's temp dir.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	dir := os.Getenv("EKOLEK_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ekolek-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
