package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
)

type message struct {
	Channel, To, Subject, Body string
}

// outbox reads GET /dev/outbox.
func (e *env) outbox() []message {
	e.t.Helper()
	r := e.browser().do("GET", "/dev/outbox", nil)
	if r.status != 200 {
		e.t.Fatalf("outbox: %d %s", r.status, r.body)
	}
	var out []message
	for _, v := range r.get("messages").([]any) {
		m := v.(map[string]any)
		out = append(out, message{m["channel"].(string), m["to"].(string), m["subject"].(string), m["body"].(string)})
	}
	return out
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the code in the newest message to to, and how many messages to has had.
func (e *env) lastCode(to string) (string, int) {
	e.t.Helper()
	code, n := "", 0
	for _, m := range e.outbox() {
		if m.To == to {
			n++
			code = sixDigits.FindString(m.Body)
		}
		if c := sixDigits.FindString(m.Body); c != "" {
			e.codes.Store(c, true)
		}
	}
	return code, n
}

func withSMSCap(n int) envOption {
	return func(c *config.Config, _ *app.Options) { c.SMSDailyCap = n }
}

func TestContactVerification(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		id := e.register(b, "juan@example.com", "09171234567")
		emailCode, n := e.lastCode("juan@example.com")
		if n != 1 || emailCode == "" {
			t.Fatalf("registration sent %d emails (code %q)", n, emailCode)
		}
		phoneCode, n := e.lastCode("+639171234567")
		if n != 1 || phoneCode == "" {
			t.Fatalf("registration sent %d SMS (code %q)", n, phoneCode)
		}
		for _, m := range e.outbox() {
			if m.Channel == "sms" && len(m.Body) > 160 {
				t.Errorf("SMS of %d characters", len(m.Body))
			}
		}

		verify := func(identifier, code string) *response {
			return b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": identifier, "code": code})
		}
		wrong := fmt.Sprintf("%06d", (atoi(emailCode)+1)%1000000)
		wantStatus(t, "wrong code", verify("juan@example.com", wrong), 400, "invalid_code")
		wantStatus(t, "phone code for the email", verify("juan@example.com", phoneCode), 400, "invalid_code")
		wantStatus(t, "unknown identifier", verify("nobody@example.com", emailCode), 400, "invalid_code")
		if r := verify("JUAN@example.com", emailCode); r.status != 204 {
			t.Fatalf("right code: %d %s", r.status, r.body)
		}
		wantStatus(t, "code used twice", verify("juan@example.com", emailCode), 400, "invalid_code")
		// Any common form of the number.
		if r := verify("+63 917 123 4567", phoneCode); r.status != 204 {
			t.Fatalf("phone code: %d %s", r.status, r.body)
		}
		a, err := e.app.Accounts.Get(t.Context(), account.Resident, id)
		if err != nil || !a.EmailVerified || !a.PhoneVerified {
			t.Fatalf("flags after verification: %+v %v", a, err)
		}
		// The admin listing shows them.
		e.createAdmin("boss", account.RoleSuperAdmin)
		adm := e.browser()
		adm.mustLogin("admin", "boss", adminPassword)
		r := adm.do("GET", "/v1/admin/residents", nil)
		res := r.get("residents").([]any)[0].(map[string]any)
		if res["email_verified"] != true || res["phone_verified"] != true {
			t.Fatalf("listing flags: %v", res)
		}
	})
}

func atoi(s string) int {
	n := 0
	fmt.Sscanf(s, "%d", &n)
	return n
}

func TestCodesBurnExpireAndThrottle(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		b := e.browser()
		e.register(b, "juan@example.com", "09171234567")
		code, _ := e.lastCode("juan@example.com")
		verify := func(c string) *response {
			return b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "juan@example.com", "code": c})
		}
		wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
		for i := 0; i < 5; i++ {
			wantStatus(t, "wrong code", verify(wrong), 400, "invalid_code")
		}
		wantStatus(t, "right code after 5 wrong tries", verify(code), 400, "invalid_code")

		resend := func() *response {
			return b.do("POST", "/v1/resident/register/resend", map[string]string{"identifier": "juan@example.com"})
		}
		first := resend()
		if first.status != 202 {
			t.Fatalf("resend: %d %s", first.status, first.body)
		}
		if _, n := e.lastCode("juan@example.com"); n != 1 {
			t.Fatalf("resend within the cooldown sent a message (%d in all)", n)
		}
		e.clock.Advance(61 * time.Second)
		if r := resend(); r.status != 202 || string(r.body) != string(first.body) {
			t.Fatalf("resend: %d %s", r.status, r.body)
		}
		code2, n := e.lastCode("juan@example.com")
		if n != 2 {
			t.Fatalf("resend after the cooldown: %d messages", n)
		}
		// Expiry: 10 minutes.
		e.clock.Advance(10*time.Minute + time.Second)
		wantStatus(t, "expired code", verify(code2), 400, "invalid_code")
		// Hourly cap: 3 sends per hour per account. Registration sent two
		// (email and SMS) and the resend above the third: a fourth within
		// the hour does not go out.
		if r := resend(); r.status != 202 {
			t.Fatal(r.status)
		}
		if _, n := e.lastCode("juan@example.com"); n != 2 {
			t.Fatalf("a fourth send within the hour went out (%d emails)", n)
		}
		e.clock.Advance(time.Hour)
		resend()
		code3, n := e.lastCode("juan@example.com")
		if n != 3 {
			t.Fatalf("after the hour: %d messages", n)
		}
		if r := verify(code3); r.status != 204 {
			t.Fatalf("fresh code: %d %s", r.status, r.body)
		}
		// Already verified: nothing more is sent.
		e.clock.Advance(2 * time.Minute)
		resend()
		if _, n := e.lastCode("juan@example.com"); n != 3 {
			t.Fatalf("resend to a verified contact sent a message")
		}
	})
}

// verifiedResident registers juan, verifies his email (and phone when asked) and approves him.
func (e *env) verifiedResident(phone bool) string {
	e.t.Helper()
	b := e.browser()
	id := e.register(b, "juan@example.com", "09171234567")
	code, _ := e.lastCode("juan@example.com")
	if r := b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "juan@example.com", "code": code}); r.status != 204 {
		e.t.Fatalf("verify email: %d %s", r.status, r.body)
	}
	if phone {
		code, _ := e.lastCode("+639171234567")
		if r := b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": "09171234567", "code": code}); r.status != 204 {
			e.t.Fatalf("verify phone: %d %s", r.status, r.body)
		}
	}
	e.changeStatus(id, "approve")
	return id
}

func TestResetRequestRevealsNothing(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(false) // phone left unverified
		b := e.browser()
		before := len(e.outbox())
		request := func(realm, identifier, channel string) *response {
			return b.do("POST", "/v1/"+realm+"/password-reset", map[string]string{"identifier": identifier, "channel": channel})
		}
		cases := []struct{ realm, identifier, channel string }{
			{"resident", "nobody@example.com", "email"},
			{"resident", "09181234567", "sms"},
			{"resident", "09171234567", "sms"}, // known, but the number is unverified
			{"resident", "not an identifier", "email"},
			{"admin", "juan@example.com", "email"}, // a resident, asked in the admin realm
			{"admin", "nobody", "sms"},
		}
		var bodies []string
		for _, c := range cases {
			r := request(c.realm, c.identifier, c.channel)
			if r.status != 202 {
				t.Fatalf("%v: %d %s", c, r.status, r.body)
			}
			bodies = append(bodies, string(r.body))
		}
		if got := len(e.outbox()); got != before {
			t.Fatalf("requests for unknown accounts or unverified contacts sent %d messages", got-before)
		}
		r := request("resident", "juan@example.com", "email")
		if r.status != 202 || string(r.body) != bodies[0] {
			t.Fatalf("known account: %d %s, want the same answer %s", r.status, r.body, bodies[0])
		}
		for _, body := range bodies {
			if body != bodies[0] {
				t.Fatalf("answers differ: %s vs %s", body, bodies[0])
			}
		}
		if got := len(e.outbox()); got != before+1 {
			t.Fatalf("known verified email: %d messages sent", got-before)
		}
		wantStatus(t, "bad channel", request("resident", "juan@example.com", "pigeon"), 400, "invalid_request")
	})
}

func TestPasswordResetFlowAndSessionEffects(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(true)
		e.createAdmin("ops", account.RoleOperationsManager, "Landayan")

		// Browser A: resident and admin logged in together. Browser B: the resident elsewhere.
		a, bb := e.browser(), e.browser()
		a.mustLogin("resident", "juan@example.com", residentPassword)
		a.mustLogin("admin", "ops", adminPassword)
		bb.mustLogin("resident", "juan@example.com", residentPassword)

		r := a.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "0917-123-4567", "channel": "sms"})
		if r.status != 202 {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		code, _ := e.lastCode("+639171234567")
		verify := func(c string) *response {
			return a.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "+639171234567", "code": c})
		}
		wantStatus(t, "wrong code", verify(fmt.Sprintf("%06d", (atoi(code)+7)%1000000)), 400, "invalid_code")
		wantStatus(t, "admin realm with the resident's code", a.do("POST", "/v1/admin/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": code}), 400, "invalid_code")
		r = verify(code)
		if r.status != 200 || r.str("reset_token") == "" || r.str("expires_at") == "" {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		tok := r.str("reset_token")
		wantStatus(t, "code used twice", verify(code), 400, "invalid_code")

		confirm := func(b *browser, realm, tok, pw string) *response {
			return b.do("POST", "/v1/"+realm+"/password-reset/confirm", map[string]string{"reset_token": tok, "new_password": pw})
		}
		wantStatus(t, "weak new password", confirm(a, "resident", tok, "juandelacruz"), 400, "weak_password")
		wantStatus(t, "token in the other realm", confirm(a, "admin", tok, "kalabasa sitaw talong 2026"), 400, "invalid_token")
		wantStatus(t, "garbage token", confirm(a, "resident", "x.y.z", "kalabasa sitaw talong 2026"), 400, "invalid_token")
		r = confirm(a, "resident", tok, "kalabasa sitaw talong 2026")
		if r.status != 204 {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
		if got := setCookieNames(r); len(got) != 0 {
			t.Fatalf("confirm set cookies %v: a reset must not log anyone in", got)
		}
		wantStatus(t, "token used twice", confirm(a, "resident", tok, "another fine passphrase 77"), 400, "invalid_token")

		// The resetting browser keeps both its sessions; the other browser is out.
		if r := a.session("resident"); r.status != 200 {
			t.Fatalf("resetting browser's resident session: %d", r.status)
		}
		if r := a.session("admin"); r.status != 200 {
			t.Fatalf("resetting browser's admin session: %d", r.status)
		}
		wantStatus(t, "other browser", bb.session("resident"), 401, "unauthenticated")

		wantStatus(t, "old password", e.browser().login("resident", "juan@example.com", residentPassword), 401, "invalid_credentials")
		e.browser().mustLogin("resident", "juan@example.com", "kalabasa sitaw talong 2026")

		// A notice went to both verified contacts.
		notices := 0
		for _, m := range e.outbox() {
			if (m.To == "juan@example.com" || m.To == "+639171234567") && !sixDigits.MatchString(m.Body) {
				notices++
			}
		}
		if notices != 2 {
			t.Fatalf("%d password-changed notices, want 2", notices)
		}
	})
}

func TestAdminResetByUsernameAndEmail(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.createAdmin("ops", account.RoleOperationsManager, "Landayan")
		b := e.browser()
		for i, identifier := range []string{"ops", "ops@city.example.gov.ph"} {
			e.clock.Advance(2 * time.Minute)
			if r := b.do("POST", "/v1/admin/password-reset", map[string]string{"identifier": identifier, "channel": "email"}); r.status != 202 {
				t.Fatalf("request: %d", r.status)
			}
			code, n := e.lastCode("ops@city.example.gov.ph")
			if n != i+1 {
				t.Fatalf("%s: %d messages", identifier, n)
			}
			r := b.do("POST", "/v1/admin/password-reset/verify", map[string]string{"identifier": identifier, "code": code})
			if r.status != 200 {
				t.Fatalf("verify: %d %s", r.status, r.body)
			}
			if i == 1 {
				if r := b.do("POST", "/v1/admin/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": "kalabasa sitaw talong 2026"}); r.status != 204 {
					t.Fatalf("confirm: %d %s", r.status, r.body)
				}
			}
		}
		b.mustLogin("admin", "ops", "kalabasa sitaw talong 2026")
	})
}

func TestResetTokenExpires(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(false)
		b := e.browser()
		b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
		code, _ := e.lastCode("juan@example.com")
		r := b.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": code})
		e.clock.Advance(16 * time.Minute)
		wantStatus(t, "expired token", b.do("POST", "/v1/resident/password-reset/confirm", map[string]string{"reset_token": r.str("reset_token"), "new_password": "kalabasa sitaw talong 2026"}), 400, "invalid_token")
	})
}

func TestSMSDailyCap(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, withSMSCap(2))
		for i := 0; i < 4; i++ {
			e.register(e.browser(), fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("0917000000%d", i))
		}
		sms := 0
		for _, m := range e.outbox() {
			if m.Channel == "sms" {
				sms++
			}
		}
		if sms != 2 {
			t.Fatalf("%d SMS sent with a daily cap of 2", sms)
		}
		e.clock.Advance(24 * time.Hour)
		e.register(e.browser(), "r9@example.com", "09170000009")
		if _, n := e.lastCode("+639170000009"); n != 1 {
			t.Fatal("the cap did not reset the next day")
		}
	})
}

func TestMessagesInFilipino(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.browser().do("POST", "/v1/resident/register", map[string]string{
		"first_name": "Maria", "last_name": "Santos", "email": "maria@example.com", "phone": "09181234567",
		"barangay": "Poblacion", "password": "sampaguita jeepney harbor 77", "language": "fil",
	})
	if r.status != 201 {
		t.Fatal(r.status)
	}
	for _, m := range e.outbox() {
		if !strings.Contains(strings.ToLower(m.Body), "ang iyong") {
			t.Errorf("%s message not in Filipino: %q", m.Channel, m.Body)
		}
	}
}

// Of 20 concurrent verifications of one reset code, exactly one gets a token.
func TestConcurrentVerificationsOfOneCode(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		e.verifiedResident(false)
		b := e.browser()
		b.do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"})
		code, _ := e.lastCode("juan@example.com")
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.browser().do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": "juan@example.com", "code": code}).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 400:
			default:
				t.Fatalf("status %d", s)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 20 concurrent verifications succeeded, want exactly 1", ok)
		}
	})
}

// withLimits changes the abuse limits in force.
func withLimits(change func(l *config.Config)) envOption {
	return func(c *config.Config, _ *app.Options) { change(c) }
}

// codeTrial is one burst of guesses at one code: 29 wrong codes and the
// right one, sent at once, the right one at a random place among them.
type codeTrial struct {
	path, identifier, right string
	// ok is the success status of the route.
	ok int
}

// run sends the burst and returns whether the right code was accepted and
// the try numbers the code_failed events of the burst report for the wrong
// codes that were judged (compared with the code).
func (tr codeTrial) run(t *testing.T, e *env) (accepted bool, judgedWrong []int) {
	t.Helper()
	start := e.clock.Now()
	const n = 30
	rightAt := rand.IntN(n)
	statuses := make([]*response, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		guess := tr.right
		if i != rightAt {
			guess = fmt.Sprintf("%06d", (atoi(tr.right)+1+i)%1000000)
		}
		b := e.browser()
		wg.Go(func() {
			<-gate
			statuses[i] = b.do("POST", tr.path, map[string]string{"identifier": tr.identifier, "code": guess})
		})
	}
	close(gate)
	wg.Wait()
	for i, r := range statuses {
		switch {
		case i == rightAt && r.status == tr.ok:
			accepted = true
		case r.status != 400 || r.errCode() != "invalid_code":
			t.Fatalf("guess %d (right: %v): %d %s", i, i == rightAt, r.status, r.body)
		}
	}
	evs, _, err := e.app.Store.QueryEvents(context.Background(), audit.Query{Type: audit.CodeFailed, Since: start, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n-btoi(accepted) {
		t.Fatalf("%d code_failed events for %d refused guesses", len(evs), n-btoi(accepted))
	}
	for _, ev := range evs {
		if a := ev.Details["attempt"]; a != "" {
			k, _ := strconv.Atoi(a)
			judgedWrong = append(judgedWrong, k)
		}
	}
	return accepted, judgedWrong
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The try limit holds under concurrency: of 29 wrong codes and the right
// one sent at once, at most code.MaxAttempts are judged, each with its own
// try number, and the right one is accepted only when it was one of them
// (then at most MaxAttempts-1 wrong ones were judged). The store agrees:
// a code not redeemed keeps exactly MaxAttempts tries; a redeemed reset
// code has counted the judged tries and no others. Repeated, as a race.
func TestConcurrentGuessesJudgeAtMostFive(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, withLimits(func(c *config.Config) {
			c.Limits.CodeVerifyIP.Max, c.Limits.RegisterIP.Max, c.Limits.ResetIP.Max = 10_000, 100, 100
		}))
		check := func(t *testing.T, accepted bool, judgedWrong []int) {
			t.Helper()
			seen := map[int]bool{}
			for _, k := range judgedWrong {
				if k < 1 || k > code.MaxAttempts || seen[k] {
					t.Fatalf("judged wrong tries numbered %v: want distinct numbers in 1..%d", judgedWrong, code.MaxAttempts)
				}
				seen[k] = true
			}
			judged := len(judgedWrong) + btoi(accepted)
			if judged > code.MaxAttempts {
				t.Fatalf("%d tries judged (%d wrong, right accepted: %v), want at most %d", judged, len(judgedWrong), accepted, code.MaxAttempts)
			}
			if !accepted && len(judgedWrong) != code.MaxAttempts {
				t.Fatalf("right code refused after %d judged wrong tries: it was refused without being one of the %d", len(judgedWrong), code.MaxAttempts)
			}
		}
		stored := func(t *testing.T, realm account.Realm, id string, p code.Purpose) (code.Record, bool) {
			t.Helper()
			r, err := e.app.Store.GetCode(t.Context(), realm, id, p)
			if err != nil {
				return code.Record{}, false
			}
			return r, true
		}
		acceptedIn := map[string]int{}

		t.Run("register/verify", func(t *testing.T) {
			for trial := range 4 {
				e.clock.Advance(time.Hour)
				email := fmt.Sprintf("guess%d@example.com", trial)
				id := e.register(e.browser(), email, fmt.Sprintf("0917555000%d", trial))
				right, _ := e.lastCode(email)
				tr := codeTrial{path: "/v1/resident/register/verify", identifier: email, right: right, ok: 204}
				accepted, judgedWrong := tr.run(t, e)
				check(t, accepted, judgedWrong)
				a, err := e.app.Accounts.Get(t.Context(), account.Resident, id)
				if err != nil || a.EmailVerified != accepted {
					t.Fatalf("email verified = %v (%v), right code accepted = %v", a.EmailVerified, err, accepted)
				}
				r, ok := stored(t, account.Resident, id, code.VerifyEmail)
				switch {
				case accepted && ok:
					t.Fatalf("redeemed code still stored: %+v", r)
				case !accepted && (!ok || r.Attempts != code.MaxAttempts || r.State != code.Pending):
					t.Fatalf("code after its tries ran out: %+v (stored: %v), want pending with %d tries", r, ok, code.MaxAttempts)
				}
				wantStatus(t, "the right code after the burst", tr.codeAgain(e), 400, "invalid_code")
				acceptedIn["register/verify"] += btoi(accepted)
			}
		})
		t.Run("password-reset/verify", func(t *testing.T) {
			id := e.verifiedResident(false)
			for range 4 {
				e.clock.Advance(time.Hour)
				if r := e.browser().do("POST", "/v1/resident/password-reset", map[string]string{"identifier": "juan@example.com", "channel": "email"}); r.status != 202 {
					t.Fatalf("reset request: %d %s", r.status, r.body)
				}
				right, _ := e.lastCode("juan@example.com")
				tr := codeTrial{path: "/v1/resident/password-reset/verify", identifier: "juan@example.com", right: right, ok: 200}
				accepted, judgedWrong := tr.run(t, e)
				check(t, accepted, judgedWrong)
				r, ok := stored(t, account.Resident, id, code.PasswordReset)
				want := code.Pending
				if accepted {
					want = code.Verified
				}
				if !ok || r.State != want || r.Attempts != len(judgedWrong)+btoi(accepted) {
					t.Fatalf("reset code after the burst: %+v (stored: %v), want %s with %d tries counted", r, ok, want, len(judgedWrong)+btoi(accepted))
				}
				wantStatus(t, "the right code after the burst", tr.codeAgain(e), 400, "invalid_code")
				acceptedIn["password-reset/verify"] += btoi(accepted)
			}
		})
		t.Logf("right code accepted in %v of 4 trials each", acceptedIn)
	})
}

// Requests refused by a code's own limits (the 60 s cooldown, the hourly
// cap) spend none of the number's daily SMS budget: many resends and reset
// requests inside the cooldown still leave an SMS for the next request after
// it, and the whole budget for the day. An SMS the budget refuses does not
// replace the code the person already has.
func TestRefusedCodeRequestsSpendNoSMSBudget(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store, withLimits(func(c *config.Config) {
			c.Limits.ResetIP.Max = 100
			c.Limits.SMSPerNumber.Max = 4
		}))
		const phone = "+639171234567"
		e.register(e.browser(), "juan@example.com", "09171234567")
		b := e.browser()
		sms := func(what string, want int) string {
			t.Helper()
			c, n := e.lastCode(phone)
			if n != want {
				t.Fatalf("%s: %d SMS to the number in all, want %d", what, n, want)
			}
			return c
		}
		sms("registration", 1)
		ask := func(path string, body map[string]string) {
			t.Helper()
			if r := b.do("POST", path, body); r.status != 202 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
		}
		resend := func() { ask("/v1/resident/register/resend", map[string]string{"identifier": "09171234567"}) }
		for range 8 {
			resend()
		}
		sms("resends inside the cooldown", 1)
		e.clock.Advance(code.ResendCooldown + time.Second)
		resend()
		c := sms("a resend after the cooldown", 2)
		if r := b.do("POST", "/v1/resident/register/verify", map[string]string{"identifier": phone, "code": c}); r.status != 204 {
			t.Fatalf("verify phone: %d %s", r.status, r.body)
		}

		// Reset codes by SMS, in a new hour (the hourly cap starts over).
		e.clock.Advance(time.Hour)
		reset := func() {
			ask("/v1/resident/password-reset", map[string]string{"identifier": "09171234567", "channel": "sms"})
		}
		reset()
		sms("a reset request", 3)
		for range 8 {
			reset()
		}
		sms("reset requests inside the cooldown", 3)
		e.clock.Advance(code.ResendCooldown + time.Second)
		reset()
		kept := sms("a reset request after the cooldown", 4)

		// The budget (4 a day here) is spent now, by four real SMS: the next
		// request passes the cooldown and the hourly cap, the budget refuses
		// it, and the code sent last stays valid.
		e.clock.Advance(code.ResendCooldown + time.Second)
		reset()
		sms("a reset request past the number's budget", 4)
		if r := b.do("POST", "/v1/resident/password-reset/verify", map[string]string{"identifier": phone, "code": kept}); r.status != 200 {
			t.Fatalf("the code sent before the refused SMS: %d %s", r.status, r.body)
		}
	})
}

// codeAgain sends the trial's right code once more.
func (tr codeTrial) codeAgain(e *env) *response {
	return e.browser().do("POST", tr.path, map[string]string{"identifier": tr.identifier, "code": tr.right})
}

func TestOutboxIsLocalOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, production(), func(c *config.Config, o *app.Options) { c.Notifier = "outbox" })
	wantStatus(t, "outbox in production", e.browser().do("GET", "/dev/outbox", nil), 404, "not_found")
}
