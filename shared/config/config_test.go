package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env returns a Getenv backed by m; anything not in m is unset.
func env(m map[string]string) Getenv {
	return func(k string) string { return m[k] }
}

// key32 is the base64 of a valid 32-byte signing key.
var key32 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// localEnv is a valid local environment whose data dir is a fresh temp dir.
func localEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	m := map[string]string{"EKOLEK_DATA_DIR": t.TempDir()}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// prodEnv is a valid production environment.
func prodEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		"EKOLEK_ENV":         "production",
		"EKOLEK_TABLE":       "ekolek",
		"EKOLEK_SIGNING_KEY": key32,
		"EKOLEK_DATA_KEY":    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestLoadDefaults(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(env(map[string]string{"EKOLEK_DATA_DIR": dir}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, Local},
		{"Addr", c.Addr, "127.0.0.1:8080"},
		{"Store", c.Store, "embedded"},
		{"DataDir", c.DataDir, dir},
		{"Notifier", c.Notifier, "outbox"},
		{"Table", c.Table, ""},
		{"ResidentIdleTimeout", c.ResidentIdleTimeout, 2 * time.Hour},
		{"ResidentSessionTTL", c.ResidentSessionTTL, 24 * time.Hour},
		{"AdminIdleTimeout", c.AdminIdleTimeout, 30 * time.Minute},
		{"AdminSessionTTL", c.AdminSessionTTL, 8 * time.Hour},
		{"RequestTimeout", c.RequestTimeout, 4500 * time.Millisecond},
		{"SMSDailyCap", c.SMSDailyCap, 500},
		{"len(SigningKey)", len(c.SigningKey), 32},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadDefaultDataDir(t *testing.T) {
	// Run in a temp dir so the generated key lands there, not in the repo.
	t.Chdir(t.TempDir())
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.DataDir != ".data" {
		t.Errorf("DataDir = %q, want .data", c.DataDir)
	}
	if _, err := os.Stat(filepath.Join(".data", keyFile)); err != nil {
		t.Errorf("key file not created in the default data dir: %v", err)
	}
}

func TestLoadBarangays(t *testing.T) {
	c, err := Load(env(localEnv(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Barangays) != 27 || c.Barangays[0] != "Bagong Silang" || c.Barangays[26] != "United Better Living" {
		t.Errorf("default Barangays = %q, want San Pedro City's 27", c.Barangays)
	}
	// Names in NFD are kept in NFC; spaces around commas go.
	c, err = Load(env(localEnv(t, map[string]string{"EKOLEK_BARANGAYS": " Malanday , Santo Nin\u0303o,San Roque "})))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Barangays, "|") != "Malanday|Santo Ni\u00f1o|San Roque" {
		t.Errorf("Barangays = %q", c.Barangays)
	}
}

func TestLoadExplicitValues(t *testing.T) {
	c, err := Load(env(localEnv(t, map[string]string{
		"EKOLEK_ADDR":                  " 0.0.0.0:9090 ",
		"EKOLEK_STORE":                 "dynamodb",
		"EKOLEK_TABLE":                 "tbl",
		"EKOLEK_NOTIFIER":              "aws",
		"EKOLEK_EMAIL_FROM":            "noreply@example.com",
		"EKOLEK_SIGNING_KEY":           key32,
		"EKOLEK_RESIDENT_IDLE_TIMEOUT": "90m",
		"EKOLEK_RESIDENT_SESSION_TTL":  "12h",
		"EKOLEK_ADMIN_IDLE_TIMEOUT":    "15m",
		"EKOLEK_ADMIN_SESSION_TTL":     "4h",
		"EKOLEK_SMS_DAILY_CAP":         "0",
		"EKOLEK_REQUEST_TIMEOUT":       "2500ms",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Addr != "0.0.0.0:9090" || c.Store != "dynamodb" || c.Table != "tbl" || c.Notifier != "aws" ||
		c.EmailFrom != "noreply@example.com" {
		t.Errorf("strings not taken from the environment: %+v", c)
	}
	if c.ResidentIdleTimeout != 90*time.Minute || c.ResidentSessionTTL != 12*time.Hour ||
		c.AdminIdleTimeout != 15*time.Minute || c.AdminSessionTTL != 4*time.Hour {
		t.Errorf("lifetimes not taken from the environment: %v %v %v %v",
			c.ResidentIdleTimeout, c.ResidentSessionTTL, c.AdminIdleTimeout, c.AdminSessionTTL)
	}
	if c.SMSDailyCap != 0 {
		t.Errorf("SMSDailyCap = %d, want 0", c.SMSDailyCap)
	}
	if c.RequestTimeout != 2500*time.Millisecond {
		t.Errorf("RequestTimeout = %v, want 2.5s", c.RequestTimeout)
	}
	if !bytes.Equal(c.SigningKey, bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("SigningKey = %x, want the decoded EKOLEK_SIGNING_KEY", c.SigningKey)
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the error must name
	}{
		{"unknown env", map[string]string{"EKOLEK_ENV": "staging"}, "EKOLEK_ENV"},
		{"unknown store", map[string]string{"EKOLEK_STORE": "postgres"}, "EKOLEK_STORE"},
		{"unknown notifier", map[string]string{"EKOLEK_NOTIFIER": "x"}, "EKOLEK_NOTIFIER"},
		{"addr without port", map[string]string{"EKOLEK_ADDR": "nope"}, "EKOLEK_ADDR"},
		{"duration in words", map[string]string{"EKOLEK_RESIDENT_IDLE_TIMEOUT": "2 hours"}, "EKOLEK_RESIDENT_IDLE_TIMEOUT"},
		{"negative resident ttl", map[string]string{"EKOLEK_RESIDENT_SESSION_TTL": "-1h"}, "EKOLEK_RESIDENT_SESSION_TTL"},
		{"negative admin idle", map[string]string{"EKOLEK_ADMIN_IDLE_TIMEOUT": "-30m"}, "EKOLEK_ADMIN_IDLE_TIMEOUT"},
		{"zero admin ttl", map[string]string{"EKOLEK_ADMIN_SESSION_TTL": "0s"}, "EKOLEK_ADMIN_SESSION_TTL"},
		{"resident idle over ttl", map[string]string{"EKOLEK_RESIDENT_IDLE_TIMEOUT": "25h"}, "EKOLEK_RESIDENT_IDLE_TIMEOUT"},
		{"admin idle over ttl", map[string]string{"EKOLEK_ADMIN_IDLE_TIMEOUT": "1h", "EKOLEK_ADMIN_SESSION_TTL": "45m"}, "EKOLEK_ADMIN_IDLE_TIMEOUT"},
		{"zero request timeout", map[string]string{"EKOLEK_REQUEST_TIMEOUT": "0s"}, "EKOLEK_REQUEST_TIMEOUT"},
		{"request timeout without unit", map[string]string{"EKOLEK_REQUEST_TIMEOUT": "5"}, "EKOLEK_REQUEST_TIMEOUT"},
		{"negative sms cap", map[string]string{"EKOLEK_SMS_DAILY_CAP": "-1"}, "EKOLEK_SMS_DAILY_CAP"},
		{"sms cap not a number", map[string]string{"EKOLEK_SMS_DAILY_CAP": "lots"}, "EKOLEK_SMS_DAILY_CAP"},
		{"signing key too short", map[string]string{"EKOLEK_SIGNING_KEY": base64.StdEncoding.EncodeToString(make([]byte, 31))}, "EKOLEK_SIGNING_KEY"},
		{"signing key not base64", map[string]string{"EKOLEK_SIGNING_KEY": "this is not base64 at all!!"}, "EKOLEK_SIGNING_KEY"},
		{"previous key too short", map[string]string{"EKOLEK_SIGNING_KEY_PREVIOUS": "c2hvcnQ="}, "EKOLEK_SIGNING_KEY_PREVIOUS"},
		{"dynamodb without table", map[string]string{"EKOLEK_STORE": "dynamodb"}, "EKOLEK_TABLE"},
		{"empty barangay", map[string]string{"EKOLEK_BARANGAYS": "Landayan,,Cuyab"}, "EKOLEK_BARANGAYS"},
		{"trailing comma", map[string]string{"EKOLEK_BARANGAYS": "Landayan, Cuyab,"}, "EKOLEK_BARANGAYS"},
		{"barangay twice", map[string]string{"EKOLEK_BARANGAYS": "Landayan, LANDAYAN"}, "EKOLEK_BARANGAYS"},
		{"invisible barangay", map[string]string{"EKOLEK_BARANGAYS": "Landa\u200byan"}, "EKOLEK_BARANGAYS"},
		{"barangay too long", map[string]string{"EKOLEK_BARANGAYS": strings.Repeat("x", 101)}, "EKOLEK_BARANGAYS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := localEnv(t, tt.env)
			c, err := Load(env(m))
			if err == nil {
				t.Fatalf("Load succeeded with %v: %+v", tt.env, c)
			}
			if !strings.Contains(err.Error(), tt.want+":") {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			// A refused configuration must not leave a generated key behind.
			if _, serr := os.Stat(filepath.Join(m["EKOLEK_DATA_DIR"], keyFile)); serr == nil {
				t.Errorf("a key file was generated although the configuration was refused")
			}
		})
	}
}

func TestLoadReportsAllErrorsTogether(t *testing.T) {
	_, err := Load(env(localEnv(t, map[string]string{
		"EKOLEK_ENV":                "staging",
		"EKOLEK_ADDR":               "nope",
		"EKOLEK_ADMIN_SESSION_TTL":  "forever",
		"EKOLEK_SMS_DAILY_CAP":      "-5",
		"EKOLEK_SIGNING_KEY":        "!!!",
		"EKOLEK_STORE":              "dynamodb",
		"EKOLEK_ADMIN_IDLE_TIMEOUT": "-1m",
	})))
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, name := range []string{
		"EKOLEK_ENV", "EKOLEK_ADDR", "EKOLEK_ADMIN_SESSION_TTL", "EKOLEK_SMS_DAILY_CAP",
		"EKOLEK_SIGNING_KEY", "EKOLEK_TABLE", "EKOLEK_ADMIN_IDLE_TIMEOUT",
	} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestLoadProduction(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // variable the error names; "" means Load must succeed
	}{
		{"key given directly", prodEnv(nil), ""},
		{"key from secret", prodEnv(map[string]string{"EKOLEK_SIGNING_KEY": "", "EKOLEK_SIGNING_KEY_SECRET_ARN": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:k"}), ""},
		{"no key at all", prodEnv(map[string]string{"EKOLEK_SIGNING_KEY": ""}), "EKOLEK_SIGNING_KEY"},
		{"data key from secret", prodEnv(map[string]string{"EKOLEK_DATA_KEY": "", "EKOLEK_DATA_KEY_SECRET_ARN": "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:d"}), ""},
		// The signing key rotates; what is stored keyed or encrypted must
		// not, so production never lets the signing key stand in.
		{"no data key", prodEnv(map[string]string{"EKOLEK_DATA_KEY": ""}), "EKOLEK_DATA_KEY"},
		{"bad data key", prodEnv(map[string]string{"EKOLEK_DATA_KEY": "c2hvcnQ="}), "EKOLEK_DATA_KEY"},
		{"embedded store", prodEnv(map[string]string{"EKOLEK_STORE": "embedded"}), "EKOLEK_STORE"},
		{"outbox notifier", prodEnv(map[string]string{"EKOLEK_NOTIFIER": "outbox"}), "EKOLEK_NOTIFIER"},
		{"defaults to dynamodb, which needs a table", prodEnv(map[string]string{"EKOLEK_TABLE": ""}), "EKOLEK_TABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.env["EKOLEK_DATA_DIR"] = dir
			c, err := Load(env(tt.env))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load succeeded: %+v", c)
				}
				if !strings.Contains(err.Error(), tt.wantErr+":") {
					t.Errorf("error %q does not name %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Env != Production || c.Store != "dynamodb" || c.Notifier != "aws" {
				t.Errorf("production defaults: env %q store %q notifier %q, want production dynamodb aws", c.Env, c.Store, c.Notifier)
			}
			// Production never invents a key of its own.
			if tt.env["EKOLEK_SIGNING_KEY"] == "" && c.SigningKey != nil {
				t.Errorf("production generated a signing key")
			}
			if _, err := os.Stat(filepath.Join(dir, keyFile)); err == nil {
				t.Errorf("production wrote a key file")
			}
		})
	}
}

func TestLoadLocalKeyGeneratedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	m := map[string]string{"EKOLEK_DATA_DIR": dir}

	first, err := Load(env(m))
	if err != nil {
		t.Fatalf("first Load: %v", err)
	}
	if len(first.SigningKey) < 32 {
		t.Fatalf("generated key is %d bytes, want ≥ 32", len(first.SigningKey))
	}
	path := filepath.Join(dir, keyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := DecodeKey(string(data)); err != nil || !bytes.Equal(k, first.SigningKey) {
		t.Errorf("key file holds %q, which does not decode to the key Load returned (err %v)", data, err)
	}

	second, err := Load(env(m))
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if !bytes.Equal(first.SigningKey, second.SigningKey) {
		t.Errorf("second Load made a new key: %x then %x", first.SigningKey, second.SigningKey)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, after) {
		t.Errorf("key file rewritten on the second Load")
	}

	// Another data directory gets another key.
	other, err := Load(env(map[string]string{"EKOLEK_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.SigningKey, first.SigningKey) {
		t.Errorf("two data directories got the same key")
	}
}

func TestLoadLocalExplicitKeyWritesNoFile(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(env(map[string]string{"EKOLEK_DATA_DIR": dir, "EKOLEK_SIGNING_KEY": key32}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.SigningKey, bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("SigningKey = %x, want the given key", c.SigningKey)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); err == nil {
		t.Errorf("a key file was generated although EKOLEK_SIGNING_KEY was set")
	}
}

func TestLoadLocalCorruptKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, keyFile), []byte("garbage!!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(env(map[string]string{"EKOLEK_DATA_DIR": dir}))
	if err == nil || !strings.Contains(err.Error(), "EKOLEK_SIGNING_KEY") {
		t.Errorf("Load with a corrupt key file: err = %v, want an error naming EKOLEK_SIGNING_KEY", err)
	}
}

func TestDecodeKey(t *testing.T) {
	raw := make([]byte, 48)
	for i := range raw {
		raw[i] = byte(250 - i) // bytes that differ between the std and URL alphabets
	}
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"std", base64.StdEncoding.EncodeToString(raw), raw, false},
		{"raw std", base64.RawStdEncoding.EncodeToString(raw[:32]), raw[:32], false},
		{"url", base64.URLEncoding.EncodeToString(raw[:34]), raw[:34], false},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw[:35]), raw[:35], false},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", raw, false},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), nil, true},
		{"empty", "", nil, true},
		{"not base64", "%%%not-base64%%%", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeKey(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodeKey(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("DecodeKey(%q) = %x, want %x", tt.in, got, tt.want)
			}
		})
	}
}

func TestKeyFromSecret(t *testing.T) {
	raw40 := "Xy7pQ2rT9vW4zK8mN3bL6cF1hJ5dG0sA!@#$%^&*" // 40 bytes, not base64
	for _, tt := range []struct {
		name, secret string
		want         []byte // nil: refused
	}{
		{"base64 secret", key32, bytes.Repeat([]byte{7}, 32)},
		{"raw secret of 40 bytes", raw40, []byte(raw40)},
		{"short secret", "tooshort", nil},
		{"short base64 secret", "c2hvcnQ=", nil},
	} {
		got, err := KeyFromSecret(tt.secret)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: accepted as %q", tt.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: KeyFromSecret = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
