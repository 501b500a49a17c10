package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/totp"
)

const strongPassword = "mango tricycle umbrella 42"

// localEnv points the CLI at an embedded store in a fresh data directory and
// clears anything from the surrounding environment that would change that.
func localEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"EKOLEK_ENV":                    "local",
		"EKOLEK_STORE":                  "embedded",
		"EKOLEK_NOTIFIER":               "outbox",
		"EKOLEK_DATA_DIR":               dir,
		"EKOLEK_TABLE":                  "",
		"EKOLEK_ADDR":                   "",
		"EKOLEK_SIGNING_KEY":            "",
		"EKOLEK_SIGNING_KEY_PREVIOUS":   "",
		"EKOLEK_SIGNING_KEY_SECRET_ARN": "",
		"EKOLEK_DATA_KEY":               "",
		"EKOLEK_DATA_KEY_SECRET_ARN":    "",
		"EKOLEK_RESIDENT_IDLE_TIMEOUT":  "",
		"EKOLEK_RESIDENT_SESSION_TTL":   "",
		"EKOLEK_ADMIN_IDLE_TIMEOUT":     "",
		"EKOLEK_ADMIN_SESSION_TTL":      "",
		"EKOLEK_SMS_DAILY_CAP":          "",
	} {
		t.Setenv(k, v)
	}
	return dir
}

type admin struct {
	username, email, fullName, role string
	barangays                       []string
}

func (a admin) args() []string {
	args := []string{"create-admin", "--username", a.username, "--email", a.email, "--full-name", a.fullName, "--role", a.role}
	for _, b := range a.barangays {
		args = append(args, "--barangay", b)
	}
	return append(args, "--password-stdin")
}

var root = admin{username: "root.admin", email: "root@ekolek.example.ph", fullName: "Maria Santos", role: "super_admin"}

func runCreateAdmin(t *testing.T, a admin, pw string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), a.args(), strings.NewReader(pw+"\n"), &out)
	return out.String(), err
}

// lookup opens the store (after the CLI has released it) and returns the
// admin holding the identifier, or store.ErrNotFound.
func lookup(t *testing.T, dir string, id account.Identifier) (account.Account, error) {
	t.Helper()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatalf("open the store after the CLI returned: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	accID, err := s.LookupIdentifier(ctx, account.Admin, id)
	if err != nil {
		return account.Account{}, err
	}
	return s.GetAccount(ctx, account.Admin, accID)
}

func TestCreateAdmin(t *testing.T) {
	dir := localEnv(t)
	ops := admin{username: "Ops.Juan", email: "Juan.Ops@Ekolek.example.ph", fullName: "Juan Dela Cruz",
		role: "operations_manager", barangays: []string{"San Roque", "Cuyab", "San Roque"}}
	out, err := runCreateAdmin(t, ops, strongPassword)
	if err != nil {
		t.Fatalf("create-admin: %v", err)
	}
	if !strings.Contains(out, "ops.juan") || !strings.Contains(out, "operations_manager") {
		t.Errorf("output %q does not name the created admin and role", out)
	}
	if strings.Contains(out, strongPassword) {
		t.Errorf("output echoes the password: %q", out)
	}

	for _, id := range []account.Identifier{
		{Kind: account.KindUsername, Value: "ops.juan"},
		{Kind: account.KindEmail, Value: "juan.ops@ekolek.example.ph"},
	} {
		a, err := lookup(t, dir, id)
		if err != nil {
			t.Fatalf("LookupIdentifier(%v): %v", id, err)
		}
		if a.Username != "ops.juan" || a.Email != "juan.ops@ekolek.example.ph" || a.FullName != "Juan Dela Cruz" ||
			a.Role != account.RoleOperationsManager || a.Status != account.StatusActive || !a.EmailVerified {
			t.Errorf("stored admin = %+v", a)
		}
		if strings.Join(a.Barangays, "|") != "San Roque|Cuyab" {
			t.Errorf("barangays = %q, want [San Roque Cuyab]", a.Barangays)
		}
		ok, _, err := password.NewHasher(password.DefaultParams).Verify(strongPassword, a.PasswordHash)
		if err != nil || !ok {
			t.Errorf("stored hash does not verify the password from stdin: ok %v err %v", ok, err)
		}
	}
}

func TestCreateAdminPasswordWithoutTrailingNewline(t *testing.T) {
	dir := localEnv(t)
	var out bytes.Buffer
	if err := run(context.Background(), root.args(), strings.NewReader(strongPassword+"\r\n"), &out); err != nil {
		t.Fatalf("create-admin with CRLF: %v", err)
	}
	a, err := lookup(t, dir, account.Identifier{Kind: account.KindUsername, Value: "root.admin"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := password.NewHasher(password.DefaultParams).Verify(strongPassword, a.PasswordHash); !ok {
		t.Errorf("the line ending became part of the password")
	}
}

func TestCreateAdminDuplicate(t *testing.T) {
	localEnv(t)
	if _, err := runCreateAdmin(t, root, strongPassword); err != nil {
		t.Fatalf("first create-admin: %v", err)
	}
	tests := []struct {
		name string
		a    admin
	}{
		{"same username", admin{username: "root.admin", email: "other@ekolek.example.ph", fullName: "Other Person", role: "security_analyst"}},
		{"same username in other case", admin{username: "ROOT.Admin", email: "other2@ekolek.example.ph", fullName: "Other Person", role: "security_analyst"}},
		{"same email", admin{username: "someone.else", email: "ROOT@ekolek.example.ph", fullName: "Other Person", role: "security_analyst"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCreateAdmin(t, tt.a, strongPassword)
			if err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("create-admin = %v (output %q), want an error saying it already exists", err, out)
			}
		})
	}
}

func TestCreateAdminRefused(t *testing.T) {
	tests := []struct {
		name  string
		a     admin
		args  []string // replaces a.args() when set
		stdin string
		want  []string // substrings of the error
	}{
		{
			name:  "missing --password-stdin",
			args:  []string{"create-admin", "--username", "root.admin", "--email", "root@ekolek.example.ph", "--full-name", "Maria Santos", "--role", "super_admin"},
			stdin: strongPassword + "\n",
			want:  []string{"--password-stdin"},
		},
		{name: "empty stdin", a: root, stdin: "", want: []string{"no password"}},
		{name: "common password", a: root, stdin: "password1234\n", want: []string{"password refused", "too_guessable", "common_password"}},
		{name: "short password", a: root, stdin: "Zq8!vR2#mK4\n", want: []string{"password refused", "too_short"}},
		{
			name:  "password is the username",
			a:     admin{username: "kapitanjuan", email: "kj@ekolek.example.ph", fullName: "Juan Santos", role: "super_admin"},
			stdin: "kapitanjuan2024\n",
			want:  []string{"password refused", "contains_personal_info"},
		},
		{name: "bad role", a: admin{username: "root.admin", email: "root@ekolek.example.ph", fullName: "Maria Santos", role: "king"}, stdin: strongPassword + "\n", want: []string{"--role"}},
		{name: "bad email", a: admin{username: "root.admin", email: "Maria <root@x.ph>", fullName: "Maria Santos", role: "super_admin"}, stdin: strongPassword + "\n", want: []string{"--email"}},
		{name: "bad username", a: admin{username: "r", email: "root@ekolek.example.ph", fullName: "Maria Santos", role: "super_admin"}, stdin: strongPassword + "\n", want: []string{"--username"}},
		{name: "operations manager without barangay", a: admin{username: "ops", email: "ops@ekolek.example.ph", fullName: "Ops Person", role: "operations_manager"}, stdin: strongPassword + "\n", want: []string{"--barangay:"}},
		{name: "barangay outside the directory", a: admin{username: "ops", email: "ops@ekolek.example.ph", fullName: "Ops Person", role: "operations_manager", barangays: []string{"San Roque", "San Isidro"}}, stdin: strongPassword + "\n", want: []string{"--barangay:", "directory"}},
		{name: "unknown flag", args: []string{"create-admin", "--user", "x", "--password-stdin"}, stdin: strongPassword + "\n", want: []string{"flag provided but not defined", "usage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := localEnv(t)
			args := tt.args
			if args == nil {
				args = tt.a.args()
			}
			var out bytes.Buffer
			err := run(context.Background(), args, strings.NewReader(tt.stdin), &out)
			if err == nil {
				t.Fatalf("create-admin succeeded: %q", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(tt.stdin)) && tt.stdin != "" {
				t.Errorf("error %q echoes the password", err)
			}
			// Nothing was created.
			for _, id := range []account.Identifier{
				{Kind: account.KindUsername, Value: "root.admin"},
				{Kind: account.KindUsername, Value: "kapitanjuan"},
				{Kind: account.KindUsername, Value: "ops"},
			} {
				if _, err := lookup(t, dir, id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("after a refused create-admin, LookupIdentifier(%v) err = %v, want ErrNotFound", id, err)
				}
			}
		})
	}
}

func TestCreateAdminStoreInUse(t *testing.T) {
	dir := localEnv(t)
	held, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			held.Close()
		}
	})

	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		err := run(context.Background(), root.args(), strings.NewReader(strongPassword+"\n"), &out)
		done <- result{out.String(), err}
	}()
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatalf("create-admin succeeded while another process held the store: %q", r.out)
		}
		if !strings.Contains(r.err.Error(), "in use by another process") {
			t.Errorf("error %q does not say the store is in use by another process", r.err)
		}
		if !errors.Is(r.err, embedded.ErrLocked) {
			t.Errorf("error %v does not wrap embedded.ErrLocked", r.err)
		}
	case <-time.After(10 * time.Second):
		// The store gives up after 1 s; this only guards against a hang.
		t.Fatal("create-admin still waiting for the store after 10s: it hangs instead of saying the store is in use")
	}

	// Once the holder lets go, the same command works.
	closed = true
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := runCreateAdmin(t, root, strongPassword); err != nil {
		t.Fatalf("create-admin after the store was released: %v", err)
	}
	if _, err := lookup(t, dir, account.Identifier{Kind: account.KindUsername, Value: "root.admin"}); err != nil {
		t.Errorf("admin not found after create-admin: %v", err)
	}
}

func TestRunUsage(t *testing.T) {
	localEnv(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means success
		wantOut string
	}{
		{"no arguments", nil, "usage", ""},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{"help", []string{"help"}, "", "create-admin --username"},
		{"create-table on the embedded store", []string{"create-table"}, "EKOLEK_STORE=dynamodb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(""), &out)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("run(%q): %v", tt.args, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) err = %v, want one mentioning %q", tt.args, err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestRunBadConfiguration(t *testing.T) {
	localEnv(t)
	t.Setenv("EKOLEK_ADMIN_IDLE_TIMEOUT", "2 hours")
	_, err := runCreateAdmin(t, root, strongPassword)
	if err == nil || !strings.Contains(err.Error(), "EKOLEK_ADMIN_IDLE_TIMEOUT") {
		t.Errorf("create-admin with a bad configuration: err = %v, want one naming EKOLEK_ADMIN_IDLE_TIMEOUT", err)
	}
}

// totp-code prints the code an app shows for the secret on standard input
// (spaces and case as people copy it), the same as the server checks it.
func TestTOTPCode(t *testing.T) {
	localEnv(t)
	at := time.Date(2026, 11, 27, 8, 0, 10, 0, time.UTC)
	var out bytes.Buffer
	if err := totpCode(nil, strings.NewReader("jbsw y3dp ehpk 3pxp\n"), &out, at); err != nil {
		t.Fatal(err)
	}
	want, err := totp.Code("JBSWY3DPEHPK3PXP", at)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != want || len(got) != totp.Digits {
		t.Errorf("totp-code printed %q, want %q", got, want)
	}
	for name, in := range map[string]string{"no secret": "", "not base32": "not-a-secret!"} {
		if err := totpCode(nil, strings.NewReader(in), &out, at); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := run(context.Background(), []string{"totp-code", "--secret", "JBSWY3DPEHPK3PXP"}, strings.NewReader(""), &out); err == nil {
		t.Error("totp-code took the secret from the command line")
	}
}
