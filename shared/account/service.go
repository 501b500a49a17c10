package account

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/text"
)

// Domain errors; the HTTP layer maps each to one status and code.
var (
	ErrInvalidCredentials = errors.New("account: invalid credentials")
	ErrAlreadyRegistered  = errors.New("account: already registered")
	ErrInvalidTransition  = errors.New("account: status change not allowed from the current status")
)

// StatusError refuses a login with a correct password because of the account's status.
type StatusError struct{ Status Status }

func (e *StatusError) Error() string { return "account: status " + string(e.Status) }

// ValidationError names the input fields that are wrong and why.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "account: invalid " + strings.Join(keys, ", ")
}

// Service is the account domain: registration, admin creation, login
// verification and status changes.
type Service struct {
	store     Store
	hasher    *password.Hasher
	checks    Checks
	barangays Barangays
	clock     clock.Clock
}

// NewService returns a Service whose residents and admins belong to the
// barangays of the directory d.
func NewService(s Store, h *password.Hasher, checks Checks, d Barangays, c clock.Clock) *Service {
	return &Service{store: s, hasher: h, checks: checks, barangays: d, clock: c}
}

// Barangays is the directory.
func (s *Service) Barangays() Barangays { return s.barangays }

// NewID returns a random id: 16 bytes from crypto/rand in lower-case
// base32. Accounts, code records and security events all take theirs here.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Registration is what a resident submits to sign up.
type Registration struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Barangay  string
	Password  string
	Language  string
}

// Languages the messages come in.
var Languages = []string{"en", "fil"}

// checkName reads a name (a person's, a barangay's): trimmed, in NFC, at
// most max characters, no control or invisible characters. What is wrong is
// put in fields[field].
func checkName(fields map[string]string, field, v string, max int) string {
	v, err := text.Normalize(strings.TrimSpace(v))
	switch {
	case err != nil:
		fields[field] = err.Error()
	case v == "":
		fields[field] = "required"
	case utf8.RuneCountInString(v) > max:
		fields[field] = fmt.Sprintf("at most %d characters", max)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		fields[field] = "must not contain control characters"
	}
	return v
}

// Register creates a pending resident. Duplicate email or phone in the
// resident realm is ErrAlreadyRegistered, except for a registration that
// repeats the one that stored a still-pending account (see repeated): it
// returns that account, and repeated is true.
func (s *Service) Register(ctx context.Context, in Registration) (a Account, repeated bool, err error) {
	fields := map[string]string{}
	a = Account{Realm: Resident, ID: NewID(), Status: StatusPending, Language: "en"}
	a.FirstName = checkName(fields, "first_name", in.FirstName, 100)
	a.LastName = checkName(fields, "last_name", in.LastName, 100)
	var ok bool
	if a.Barangay, ok = s.barangays.Canonical(in.Barangay); !ok {
		fields["barangay"] = notInDirectory
		if strings.TrimSpace(in.Barangay) == "" {
			fields["barangay"] = "required"
		}
	}
	if a.Email, err = NormalizeEmail(in.Email); err != nil {
		fields["email"] = err.Error()
	}
	if a.Phone, err = s.checks.NormalizePhone(in.Phone); err != nil {
		fields["phone"] = err.Error()
	}
	if in.Language != "" {
		if !slices.Contains(Languages, in.Language) {
			fields["language"] = "must be en or fil"
		}
		a.Language = in.Language
	}
	if in.Password == "" {
		fields["password"] = "required"
	}
	if len(fields) > 0 {
		return Account{}, false, &ValidationError{Fields: fields}
	}
	created, err := s.create(ctx, a, in.Password, []string{a.FirstName, a.LastName, a.Email, a.Phone, a.Barangay})
	if errors.Is(err, ErrAlreadyRegistered) {
		return s.repeated(ctx, a, in.Password)
	}
	return created, false, err
}

// repeated answers a registration whose email or phone is taken. When it
// repeats the registration that stored a still-pending account (the same
// email, phone, names, barangay and language, and pw is that account's
// password) it is a retry whose first answer was lost or unknown, and
// gets that account. Anything else is ErrAlreadyRegistered, as before: the
// same two reads and one password hash in every case, so neither the
// answer nor its time tells which part did not match.
func (s *Service) repeated(ctx context.Context, a Account, pw string) (Account, bool, error) {
	stored, err := s.find(ctx, Resident, Identifier{Kind: KindEmail, Value: a.Email})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Account{}, false, err
	}
	same := err == nil && stored.Status == StatusPending && stored.PasswordHash != "" &&
		stored.Email == a.Email && stored.Phone == a.Phone && stored.FirstName == a.FirstName &&
		stored.LastName == a.LastName && stored.Barangay == a.Barangay && stored.Language == a.Language
	match := false
	if same {
		match, _, _ = s.hasher.Verify(pw, stored.PasswordHash)
	} else {
		s.hasher.Burn(pw)
	}
	if !match {
		return Account{}, false, ErrAlreadyRegistered
	}
	return stored, true, nil
}

// create checks and hashes pw (when given) and stores a new account; a taken
// identifier is ErrAlreadyRegistered.
func (s *Service) create(ctx context.Context, a Account, pw string, userInputs []string) (Account, error) {
	if pw != "" {
		if err := s.checks.NewPassword(pw, userInputs); err != nil {
			return Account{}, err
		}
		var err error
		if a.PasswordHash, err = s.hasher.Hash(pw); err != nil {
			return Account{}, err
		}
	}
	a.CreatedAt = s.clock.Now()
	a.UpdatedAt = a.CreatedAt
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Account{}, ErrAlreadyRegistered
		}
		return Account{}, err
	}
	a.Version = 1
	return a, nil
}

// NewAdmin is what the operator CLI (and later the admin API) gives to create an admin.
type NewAdmin struct {
	Username  string
	Email     string
	FullName  string
	Role      string
	Barangays []string
	// Password may be empty: the admin then has no password until they set
	// one through the reset flow.
	Password string
}

// CreateAdmin creates an active admin. The email counts as verified because
// an operator or a super admin vouched for it.
func (s *Service) CreateAdmin(ctx context.Context, in NewAdmin) (Account, error) {
	fields := map[string]string{}
	a := Account{Realm: Admin, ID: NewID(), Status: StatusActive, Language: "en", EmailVerified: true}
	var err error
	if a.Username, err = NormalizeUsername(in.Username); err != nil {
		fields["username"] = err.Error()
	}
	if a.Email, err = NormalizeEmail(in.Email); err != nil {
		fields["email"] = err.Error()
	}
	a.FullName = checkName(fields, "full_name", in.FullName, 200)
	role, ok := ParseRole(in.Role)
	if !ok {
		fields["role"] = "must be one of super_admin, operations_manager, content_rewards_manager, security_analyst"
	}
	a.Role = role
	a.Barangays = s.cleanBarangays(fields, in.Barangays, nil)
	if a.Role == RoleOperationsManager && len(a.Barangays) == 0 {
		fields["barangays"] = "an operations manager needs at least one barangay"
	}
	if len(fields) > 0 {
		return Account{}, &ValidationError{Fields: fields}
	}
	return s.create(ctx, a, in.Password, []string{a.Username, a.Email, a.FullName})
}

// Authenticate checks a login. Every attempt costs the same: two store reads
// (identifier claim, account; unknown identifiers read a random absent
// account instead) and one password hash, and the account's status is told
// only after a correct password: a wrong password looks the same for every
// account, real or not. rehash reports that the stored hash uses older
// parameters; the caller upgrades it with UpgradeHash once the login is done.
// A refused login (ErrInvalidCredentials, *StatusError) still returns the
// Realm and ID of the account the identifier belongs to, if any, for the
// security trail; nothing else of it.
func (s *Service) Authenticate(ctx context.Context, realm Realm, identifier, pw string) (a Account, rehash bool, err error) {
	id, ok := s.checks.LoginIdentifier(realm, identifier)
	if !ok {
		// Unreadable: look up something that cannot exist, for equal cost.
		id = Identifier{Kind: KindUsername, Value: "absent." + NewID()}
	}
	a, err = s.find(ctx, realm, id)
	if errors.Is(err, store.ErrNotFound) || !ok {
		s.hasher.Burn(pw)
		return Account{}, false, ErrInvalidCredentials
	}
	if err != nil {
		return Account{}, false, err
	}
	who := Account{Realm: a.Realm, ID: a.ID}
	if pw == "" || len(pw) > 4*password.MaxLength || a.PasswordHash == "" {
		// No password, an absurd one, or an invited admin who has not set
		// one yet.
		s.hasher.Burn(pw)
		return who, false, ErrInvalidCredentials
	}
	match, rehash, err := s.hasher.Verify(pw, a.PasswordHash)
	if err != nil || !match {
		return who, false, ErrInvalidCredentials
	}
	switch a.Status {
	case StatusPending, StatusRejected, StatusSuspended:
		return who, false, &StatusError{Status: a.Status}
	}
	return a, rehash, nil
}

// UpgradeHash stores a new hash of pw made with the current parameters. A
// concurrent change of the account wins (ErrConflict); the old hash still
// verifies and is upgraded at a later login.
func (s *Service) UpgradeHash(ctx context.Context, a Account, pw string) error {
	h, err := s.hasher.Hash(pw)
	if err != nil {
		return err
	}
	a.PasswordHash = h
	a.UpdatedAt = s.clock.Now()
	return s.store.UpdateAccount(ctx, a)
}

// find reads the account holding id. When no account holds it, it still
// reads an account (a random, absent one), so a lookup costs the same
// whether or not the account exists.
func (s *Service) find(ctx context.Context, realm Realm, id Identifier) (Account, error) {
	accountID, err := s.store.LookupIdentifier(ctx, realm, id)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := s.store.GetAccount(ctx, realm, "absent."+NewID()); !errors.Is(err, store.ErrNotFound) {
			return Account{}, err
		}
		return Account{}, store.ErrNotFound
	}
	if err != nil {
		return Account{}, err
	}
	return s.store.GetAccount(ctx, realm, accountID)
}

// Get reads one account.
func (s *Service) Get(ctx context.Context, realm Realm, id string) (Account, error) {
	return s.store.GetAccount(ctx, realm, id)
}

// List returns a page of accounts.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Account, string, error) {
	return s.store.ListAccounts(ctx, q)
}

// Action is an admin's decision on a resident.
type Action string

// Resident status actions.
const (
	ActionApprove    Action = "approve"
	ActionReject     Action = "reject"
	ActionSuspend    Action = "suspend"
	ActionReactivate Action = "reactivate"
)

// transitions says, for each action, which statuses it applies to and the
// status it leads to.
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActionApprove:    {from: []Status{StatusPending, StatusRejected}, to: StatusApproved},
	ActionReject:     {from: []Status{StatusPending}, to: StatusRejected},
	ActionSuspend:    {from: []Status{StatusApproved}, to: StatusSuspended},
	ActionReactivate: {from: []Status{StatusSuspended}, to: StatusApproved},
}

// ParseAction returns the action named s, or false.
func ParseAction(s string) (Action, bool) {
	_, ok := transitions[Action(s)]
	return Action(s), ok
}

// ChangeResidentStatus applies an action of actor to a resident and records
// it in the resident's history. A resident the actor may not see is
// ErrNotFound. Reject and suspend end the resident's sessions in the same
// store change. It returns the updated account, the previous status and how
// many sessions ended.
func (s *Service) ChangeResidentStatus(ctx context.Context, actor Account, id string, act Action, reason string) (Account, Status, int, error) {
	t, ok := transitions[act]
	if !ok {
		return Account{}, "", 0, ErrInvalidTransition
	}
	a, err := s.store.GetAccount(ctx, Resident, id)
	if err != nil {
		return Account{}, "", 0, err
	}
	if !actor.Sees(a) {
		return Account{}, "", 0, store.ErrNotFound
	}
	prev := a.Status
	if !slices.Contains(t.from, a.Status) {
		return Account{}, prev, 0, ErrInvalidTransition
	}
	now := s.clock.Now()
	a.Status = t.to
	a.UpdatedAt = now
	a.History = appendHistory(a.History, StatusChange{At: now, By: actor.ID, From: prev, To: t.to, Reason: reason})
	ended := 0
	if t.to == StatusApproved {
		err = s.store.UpdateAccount(ctx, a)
	} else {
		ended, err = s.store.UpdateAccountEndSessions(ctx, a)
	}
	if err != nil {
		return Account{}, prev, 0, err
	}
	a.Version++
	return a, prev, ended, nil
}

func appendHistory(h []StatusChange, c StatusChange) []StatusChange {
	h = append(h, c)
	if len(h) > MaxHistory {
		h = h[len(h)-MaxHistory:]
	}
	return h
}
