// Package config is the one loader of the environment every function,
// the local API and the operator CLI share. A bad value stops start-up with a
// message naming the variable.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/text"
	"github.com/ekolek/identity/shared/throttle"
)

// Env is where the system runs.
type Env string

// Environments.
const (
	Local      Env = "local"
	Production Env = "production"
)

// Config is the whole configuration.
type Config struct {
	Env      Env
	Addr     string // local API listen address
	Store    string // embedded | dynamodb
	DataDir  string
	Table    string
	Notifier string // outbox | aws
	// EmailFrom is the SES sender identity.
	EmailFrom string
	// DeadLetterQueueURL is the SQS queue function sender puts the
	// messages it gives up on (template.yaml sets it on that function
	// only; elsewhere, and locally, there is none).
	DeadLetterQueueURL string

	// SigningKey signs session tokens; PreviousSigningKey still verifies them during a rotation.
	SigningKey         []byte
	PreviousSigningKey []byte
	// SigningKeySecretARN names a Secrets Manager secret holding the key; it
	// is resolved at start-up by the caller (see ResolveSigningKey).
	SigningKeySecretARN string
	// DataKey keys what is stored: code HMACs, encrypted second factors
	// and messages. It must outlive every signing-key rotation, so it is a
	// key of its own (production requires it); DataKeySecretARN names the
	// secret holding it, resolved at start-up like the signing key's.
	// Locally, without one, the signing key serves.
	DataKey          []byte
	DataKeySecretARN string

	ResidentIdleTimeout time.Duration
	ResidentSessionTTL  time.Duration
	AdminIdleTimeout    time.Duration
	AdminSessionTTL     time.Duration

	// RequestTimeout is how long a request may take when nothing else
	// bounds it (the local API; a Lambda invocation brings its own deadline).
	RequestTimeout time.Duration

	SMSDailyCap int

	// Limits are the abuse limits; AuditRetention how long security events are kept.
	Limits         throttle.Limits
	AuditRetention time.Duration

	// Barangays is the directory residents register in and admins are
	// assigned from (GET /v1/barangays), in NFC.
	Barangays []string

	// WebAuthnRPID is the passkeys' relying party id (a domain name, never
	// an IP address); WebAuthnOrigins are the origins their ceremonies may
	// come from, each that domain or under it.
	WebAuthnRPID    string
	WebAuthnOrigins []string
	// AdminMFARequired: every admin must have a second factor
	// (EKOLEK_ADMIN_MFA=required, the default; optional lets them choose).
	AdminMFARequired bool
}

// DefaultBarangays are the 27 barangays of San Pedro City, Laguna, the
// directory when EKOLEK_BARANGAYS is not set.
var DefaultBarangays = []string{
	"Bagong Silang", "Calendola", "Chrysanthemum", "Cuyab", "Estrella", "Fatima", "G.S.I.S.",
	"Landayan", "Langgam", "Laram", "Magsaysay", "Maharlika", "Narra", "Nueva", "Pacita 1",
	"Pacita 2", "Poblacion", "Riverside", "Rosario", "Sampaguita Village", "San Antonio",
	"San Lorenzo Ruiz", "San Roque", "San Vicente", "Santo Niño", "United Bayanihan",
	"United Better Living",
}

// DefaultRequestTimeout is EKOLEK_REQUEST_TIMEOUT's default: the
// shortest Lambda timeout in template.yaml (5 s) less the margin the
// handler keeps to answer (httpapi.AnswerMargin), so a request served
// locally gets the budget it would get in the slimmest function.
const DefaultRequestTimeout = 4500 * time.Millisecond

// Getenv reads one variable; os.Getenv in production, a map in tests.
type Getenv func(string) string

// keyFile is where local mode keeps its generated signing key.
const keyFile = "signing.key"

// Load reads the configuration from getenv and validates it. In local mode
// without a key it creates one in the data directory once and reuses it.
func Load(getenv Getenv) (Config, error) {
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s: %s", name, why)) }
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	oneOf := func(name, def string, allowed ...string) string {
		v := get(name, def)
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		bad(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := get(name, "")
		if v == "" {
			return def
		}
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			bad(name, fmt.Sprintf("must be a positive duration such as 30m, 8h or 400d, got %q", v))
			return def
		}
		return d
	}
	count := func(name string, def int) int {
		v := get(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad(name, fmt.Sprintf("must be a whole number ≥ 1, got %q", v))
			return def
		}
		return n
	}

	c := Config{
		Env:       Env(oneOf("EKOLEK_ENV", "local", string(Local), string(Production))),
		Addr:      get("EKOLEK_ADDR", "127.0.0.1:8080"),
		DataDir:   get("EKOLEK_DATA_DIR", ".data"),
		Table:     get("EKOLEK_TABLE", ""),
		EmailFrom: get("EKOLEK_EMAIL_FROM", ""),

		DeadLetterQueueURL: get("EKOLEK_DEAD_LETTER_QUEUE_URL", ""),

		SigningKeySecretARN: get("EKOLEK_SIGNING_KEY_SECRET_ARN", ""),
		DataKeySecretARN:    get("EKOLEK_DATA_KEY_SECRET_ARN", ""),

		ResidentIdleTimeout: dur("EKOLEK_RESIDENT_IDLE_TIMEOUT", 2*time.Hour),
		ResidentSessionTTL:  dur("EKOLEK_RESIDENT_SESSION_TTL", 24*time.Hour),
		AdminIdleTimeout:    dur("EKOLEK_ADMIN_IDLE_TIMEOUT", 30*time.Minute),
		AdminSessionTTL:     dur("EKOLEK_ADMIN_SESSION_TTL", 8*time.Hour),
		RequestTimeout:      dur("EKOLEK_REQUEST_TIMEOUT", DefaultRequestTimeout),
	}
	d := throttle.DefaultLimits
	c.Limits = throttle.Limits{
		LoginFailures: throttle.Limit{Max: count("EKOLEK_LOGIN_MAX_FAILURES", d.LoginFailures.Max), Window: dur("EKOLEK_LOGIN_LOCK", d.LoginFailures.Window)},
		LoginIP:       throttle.Limit{Max: count("EKOLEK_LOGIN_IP_MAX_FAILURES", d.LoginIP.Max), Window: dur("EKOLEK_LOGIN_IP_WINDOW", d.LoginIP.Window)},
		CodeVerifyIP:  throttle.Limit{Max: count("EKOLEK_CODE_VERIFY_IP_MAX", d.CodeVerifyIP.Max), Window: dur("EKOLEK_CODE_VERIFY_IP_WINDOW", d.CodeVerifyIP.Window)},
		ResetIP:       throttle.Limit{Max: count("EKOLEK_RESET_IP_MAX", d.ResetIP.Max), Window: dur("EKOLEK_RESET_IP_WINDOW", d.ResetIP.Window)},
		RegisterIP:    throttle.Limit{Max: count("EKOLEK_REGISTER_IP_MAX", d.RegisterIP.Max), Window: dur("EKOLEK_REGISTER_IP_WINDOW", d.RegisterIP.Window)},
		PasskeyIP:     throttle.Limit{Max: count("EKOLEK_PASSKEY_IP_MAX", d.PasskeyIP.Max), Window: dur("EKOLEK_PASSKEY_IP_WINDOW", d.PasskeyIP.Window)},
		SMSPerNumber:  throttle.Limit{Max: count("EKOLEK_SMS_PER_NUMBER_DAILY", d.SMSPerNumber.Max), Window: 24 * time.Hour},
	}
	c.AuditRetention = dur("EKOLEK_AUDIT_RETENTION", audit.DefaultRetention)
	c.Barangays = slices.Clone(DefaultBarangays)
	if v := get("EKOLEK_BARANGAYS", ""); v != "" {
		var why string
		if c.Barangays, why = parseBarangays(v); why != "" {
			bad("EKOLEK_BARANGAYS", why)
		}
	}

	c.AdminMFARequired = oneOf("EKOLEK_ADMIN_MFA", "required", "required", "optional") == "required"
	var why map[string]string
	if c.WebAuthnRPID, c.WebAuthnOrigins, why = parseWebAuthn(get("EKOLEK_WEBAUTHN_RP_ID", DefaultWebAuthnRPID), get("EKOLEK_WEBAUTHN_ORIGINS", DefaultWebAuthnOrigins)); why != nil {
		for _, name := range []string{"EKOLEK_WEBAUTHN_RP_ID", "EKOLEK_WEBAUTHN_ORIGINS"} {
			if why[name] != "" {
				bad(name, why[name])
			}
		}
	}

	defStore, defNotifier := "embedded", "outbox"
	if c.Env == Production {
		defStore, defNotifier = "dynamodb", "aws"
	}
	c.Store = oneOf("EKOLEK_STORE", defStore, "embedded", "dynamodb")
	c.Notifier = oneOf("EKOLEK_NOTIFIER", defNotifier, "outbox", "aws")

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("EKOLEK_ADDR", fmt.Sprintf("must be host:port, got %q", c.Addr))
	}
	if c.Store == "dynamodb" && c.Table == "" {
		bad("EKOLEK_TABLE", "required when EKOLEK_STORE=dynamodb")
	}
	if c.Env == Production && c.Store == "embedded" {
		bad("EKOLEK_STORE", "production cannot use the embedded store")
	}
	if c.Env == Production && c.Notifier == "outbox" {
		bad("EKOLEK_NOTIFIER", "production cannot use the outbox")
	}
	if c.ResidentIdleTimeout > c.ResidentSessionTTL {
		bad("EKOLEK_RESIDENT_IDLE_TIMEOUT", "must not exceed EKOLEK_RESIDENT_SESSION_TTL")
	}
	if c.AdminIdleTimeout > c.AdminSessionTTL {
		bad("EKOLEK_ADMIN_IDLE_TIMEOUT", "must not exceed EKOLEK_ADMIN_SESSION_TTL")
	}
	c.SMSDailyCap = 500
	if v := get("EKOLEK_SMS_DAILY_CAP", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			bad("EKOLEK_SMS_DAILY_CAP", fmt.Sprintf("must be a whole number ≥ 0, got %q", v))
		}
		c.SMSDailyCap = n
	}

	var err error
	if v := get("EKOLEK_SIGNING_KEY", ""); v != "" {
		if c.SigningKey, err = DecodeKey(v); err != nil {
			bad("EKOLEK_SIGNING_KEY", err.Error())
		}
	}
	if v := get("EKOLEK_SIGNING_KEY_PREVIOUS", ""); v != "" {
		if c.PreviousSigningKey, err = DecodeKey(v); err != nil {
			bad("EKOLEK_SIGNING_KEY_PREVIOUS", err.Error())
		}
	}
	if v := get("EKOLEK_DATA_KEY", ""); v != "" {
		if c.DataKey, err = DecodeKey(v); err != nil {
			bad("EKOLEK_DATA_KEY", err.Error())
		}
	}
	if c.Env == Production && c.SigningKey == nil && c.SigningKeySecretARN == "" {
		bad("EKOLEK_SIGNING_KEY", "production needs EKOLEK_SIGNING_KEY or EKOLEK_SIGNING_KEY_SECRET_ARN")
	}
	if c.Env == Production && c.DataKey == nil && c.DataKeySecretARN == "" {
		bad("EKOLEK_DATA_KEY", "production needs EKOLEK_DATA_KEY or EKOLEK_DATA_KEY_SECRET_ARN (a key apart from the signing key, so a rotation keeps codes and second factors readable)")
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	if c.Env == Local && c.SigningKey == nil && c.SigningKeySecretARN == "" {
		if c.SigningKey, err = localKey(c.DataDir); err != nil {
			return Config{}, fmt.Errorf("configuration: EKOLEK_SIGNING_KEY: %w", err)
		}
	}
	return c, nil
}

// parseBarangays reads a comma-separated directory: each name trimmed, in
// NFC, at most 100 characters, without control or invisible characters,
// and once (ignoring case). why says what is wrong, naming the entry.
func parseBarangays(v string) (names []string, why string) {
	for i, name := range strings.Split(v, ",") {
		name, err := text.Normalize(strings.TrimSpace(name))
		switch {
		case err != nil || strings.ContainsFunc(name, unicode.IsControl):
			return nil, fmt.Sprintf("entry %d: must not contain control or invisible characters", i+1)
		case name == "":
			return nil, fmt.Sprintf("entry %d is empty (names are separated by commas)", i+1)
		case utf8.RuneCountInString(name) > 100:
			return nil, fmt.Sprintf("entry %d is longer than 100 characters", i+1)
		case slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }):
			return nil, fmt.Sprintf("%q is listed twice", name)
		}
		names = append(names, name)
	}
	return names, ""
}

// parseDuration is time.ParseDuration plus whole days ("400d"), which
// retention periods are naturally written in.
func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

// DecodeKey reads a signing key: base64 (standard or URL alphabet) of at least 32 bytes.
func DecodeKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(v); err == nil {
			if len(k) < 32 {
				return nil, errors.New("must decode to at least 32 bytes")
			}
			return k, nil
		}
	}
	return nil, errors.New("must be base64")
}

// localKey returns the data directory's signing key, creating it on first use.
func localKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	if data, err := os.ReadFile(path); err == nil {
		return DecodeKey(string(data))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	// Write the whole key to a temporary file, then link it into place: the
	// link fails if another process won the race, and nobody ever reads a
	// half-written key.
	tmp, err := os.CreateTemp(dir, keyFile+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return DecodeKey(string(data))
	}
	return k, nil
}

// KeyFromSecret reads a signing key kept in a secret: base64 when it
// decodes to a key, else the string itself, which must be at least 32 bytes.
func KeyFromSecret(s string) ([]byte, error) {
	if k, err := DecodeKey(s); err == nil {
		return k, nil
	}
	if len(s) < 32 {
		return nil, errors.New("the secret must be at least 32 bytes")
	}
	return []byte(s), nil
}
