package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/sender"
)

// Passwords of the suite's accounts.
const (
	residentPassword = "mango tricycle umbrella 42"
	adminPassword    = "correct horse battery staple"
)

// offsetClock is the wall clock plus an offset a test can move forward:
// codes and sessions age as in life, and a test can jump past an idle
// window without waiting for it.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// system is the local API as `make run` serves it (every route, the pages,
// the embedded store, the outbox and its sender in the same process), on a
// free 127.0.0.1 port, reached as http://localhost:<port>: passkeys'
// relying party is localhost (WebAuthn refuses an IP address), and that
// origin is the one allowed.
type system struct {
	t     *testing.T
	url   string
	app   *app.App
	clock *offsetClock
}

// startSystem starts the system; env is configuration beyond the
// defaults, as pairs of name and value. Admins may go without two-step
// sign-in (EKOLEK_ADMIN_MFA=optional): the console's tests are about the
// console; the tests of two-step sign-in ask for required.
func startSystem(t *testing.T, env ...string) *system {
	t.Helper()
	skipWithoutBrowser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	vars := map[string]string{"EKOLEK_DATA_DIR": t.TempDir(), "EKOLEK_WEBAUTHN_ORIGINS": origin, "EKOLEK_ADMIN_MFA": "optional"}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	logs := &emulator.Output{}
	clk := &offsetClock{}
	// Password hashing is not what this suite is about: cheap parameters.
	cheap := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	a, err := app.Open(t.Context(), cfg, logging.New(logs, slog.LevelInfo), app.Options{
		Parts: allparts.Parts(), Clock: clk, Hash: &cheap, CodeRouteFloor: time.Millisecond,
	})
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	h, err := a.Handler()
	if err != nil {
		_ = ln.Close()
		_ = a.Close()
		t.Fatal(err)
	}
	// The sender inside the process, as make run has it.
	delivering, stopDelivery := context.WithCancel(context.Background())
	delivered := make(chan error, 1)
	go func() { delivered <- a.Deliver(delivering, sender.Sweep) }()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		stopDelivery()
		if err := <-delivered; err != nil {
			t.Errorf("deliver: %v", err)
		}
		_ = a.Close()
		if t.Failed() {
			t.Logf("server log (last lines):\n%s", tail(logs.String(), 40))
		}
	})
	return &system{t: t, url: origin, app: a, clock: clk}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// resident registers a resident through the API, verifies its email and
// mobile number with the codes from the outbox, has the super admin "boss"
// approve it through the admin API, and returns its id. Its password is
// residentPassword.
func (s *system) resident(first, email, phone string) string {
	s.t.Helper()
	c := s.client()
	var reg struct{ Account struct{ ID, Phone string } }
	c.call(http.MethodPost, "/v1/resident/register", map[string]string{
		"first_name": first, "last_name": "Dela Cruz", "email": email, "phone": phone,
		"barangay": "Landayan", "password": residentPassword,
	}, http.StatusCreated, &reg)
	for _, contact := range []string{email, reg.Account.Phone} {
		c.call(http.MethodPost, "/v1/resident/register/verify", map[string]string{"identifier": contact, "code": s.lastCode(contact)}, http.StatusNoContent, nil)
	}
	s.admin("boss", account.RoleSuperAdmin)
	boss := s.client()
	boss.login("admin", "boss", adminPassword)
	boss.call(http.MethodPost, "/v1/admin/residents/"+reg.Account.ID+"/approve", map[string]string{"reason": "documents checked"}, http.StatusOK, nil)
	return reg.Account.ID
}

// admin creates an admin (or finds it) the way the operator CLI does; its
// password is adminPassword.
func (s *system) admin(username string, role account.Role) account.Account {
	s.t.Helper()
	ctx := s.t.Context()
	if id, err := s.app.Store.LookupIdentifier(ctx, account.Admin, account.Identifier{Kind: account.KindUsername, Value: username}); err == nil {
		a, err := s.app.Accounts.Get(ctx, account.Admin, id)
		if err != nil {
			s.t.Fatal(err)
		}
		return a
	}
	a, err := s.app.Accounts.CreateAdmin(ctx, account.NewAdmin{
		Username: username, Email: username + "@city.example.gov.ph", FullName: "Admin " + username, Role: string(role), Password: adminPassword,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// apiClient is a client of the API outside the browser (another device):
// its own cookies, the CSRF header like the pages send it.
type apiClient struct {
	s    *system
	http *http.Client
}

func (s *system) client() *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{s: s, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// call sends a JSON request and decodes the answer into out (when not
// nil); it fails the test unless the status is want.
func (c *apiClient) call(method, path string, body any, want int, out any) {
	c.s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.s.t.Context(), method, c.s.url+path, rd)
	if err != nil {
		c.s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		if ck.Name == "ekolek_csrftoken" {
			req.Header.Set("X-CSRF-Token", ck.Value)
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.s.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.s.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

func (c *apiClient) login(realm, identifier, pw string) {
	c.s.t.Helper()
	c.call(http.MethodPost, "/v1/"+realm+"/login", map[string]any{"identifier": identifier, "password": pw}, http.StatusOK, nil)
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the code in the newest outbox message to to (GET /dev/outbox).
func (s *system) lastCode(to string) string {
	s.t.Helper()
	var out struct {
		Messages []struct{ To, Body string }
	}
	s.client().call(http.MethodGet, "/dev/outbox", nil, http.StatusOK, &out)
	for i := len(out.Messages) - 1; i >= 0; i-- {
		if m := out.Messages[i]; m.To == to {
			if c := sixDigits.FindString(m.Body); c != "" {
				return c
			}
		}
	}
	s.t.Fatalf("no code to %s in the outbox", to)
	return ""
}

// chromium is the browser binary: $EKOLEK_CHROMIUM, else Debian's chromium
// (or another Chrome) on PATH.
func chromium() (string, error) {
	if p := os.Getenv("EKOLEK_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium, or set EKOLEK_CHROMIUM)")
}

// skipWithoutBrowser: -short skips the suite; without Chromium it fails
// under CI=true and skips otherwise, saying why.
func skipWithoutBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the browser suite does not run with -short")
	}
	if _, err := chromium(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser suite: %v", err)
		}
		t.Skipf("browser suite skipped: %v", err)
	}
}

// repoFile is a file of the repository (node_modules/axe-core/axe.min.js).
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, rel)
}
