package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

const newResidentPassword = "kalabasa sitaw talong 2026"

// racingLogins logs in as juan with password from workers goroutines, each
// attempt in a fresh browser, until stop is closed; it returns the browsers
// whose login succeeded. ready is closed after the first success, so the
// change under test runs while logins are in flight.
func racingLogins(e *env, workers int, pw string, stop <-chan struct{}) (ready <-chan struct{}, done func() []*browser) {
	var (
		mu   sync.Mutex
		won  []*browser
		wg   sync.WaitGroup
		once sync.Once
	)
	first := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				b := e.browser()
				if r := b.login("resident", "juan@example.com", pw); r.status == http.StatusOK {
					mu.Lock()
					won = append(won, b)
					mu.Unlock()
					once.Do(func() { close(first) })
				}
			}
		})
	}
	return first, func() []*browser {
		wg.Wait()
		return won
	}
}

// TestLoginsRacingACredentialChangeDoNotSurvive: logins that checked the old
// password while a password change or reset committed get sessions that
// are refused, though their items are written after the change ended the
// account's sessions; the browser that made the change keeps its session.
func TestLoginsRacingACredentialChangeDoNotSurvive(t *testing.T) {
	t.Parallel()
	changes := []struct {
		name   string
		change func(e *env, keeper *browser) *response
	}{
		{"password change", func(_ *env, keeper *browser) *response {
			return keeper.do("POST", "/v1/resident/password", map[string]string{
				"current_password": residentPassword, "new_password": newResidentPassword,
			})
		}},
		{"password reset", func(e *env, keeper *browser) *response {
			return e.resetPassword(keeper, "juan@example.com", newResidentPassword)
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			forEachStore(t, func(t *testing.T, store envOption) {
				e := newEnv(t, store)
				e.verifiedResident(false)
				keeper := e.browser()
				keeper.mustLogin("resident", "juan@example.com", residentPassword)

				stop := make(chan struct{})
				ready, done := racingLogins(e, 4, residentPassword, stop)
				<-ready
				r := c.change(e, keeper)
				close(stop)
				won := done()
				if r.status != http.StatusNoContent {
					t.Fatalf("%s: %d %s", c.name, r.status, r.body)
				}
				for _, b := range won {
					wantStatus(t, "a session won with the old password", b.session("resident"), 401, "unauthenticated")
				}
				t.Logf("%d logins with the old password succeeded around the change; all refused after it", len(won))
				if r := keeper.session("resident"); r.status != http.StatusOK {
					t.Fatalf("the browser that made the change lost its session: %d %s", r.status, r.body)
				}
				// The racing logins' wrong tries after the change may have
				// locked the identifier; once that passes, the new password works.
				e.clock.Advance(16 * time.Minute)
				e.browser().mustLogin("resident", "juan@example.com", newResidentPassword)
			})
		})
	}
}

// TestSuspensionEndsRacingLogins: a login that checked the password before
// a suspension committed does not come back to life when the resident is
// reactivated.
func TestSuspensionEndsRacingLogins(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, store envOption) {
		e := newEnv(t, store)
		id := e.approvedResident()
		stop := make(chan struct{})
		ready, done := racingLogins(e, 4, residentPassword, stop)
		<-ready
		e.changeStatus(id, "suspend")
		close(stop) // later logins are refused as suspended: no session
		won := done()
		e.changeStatus(id, "reactivate")
		for _, b := range won {
			wantStatus(t, "a session won before the suspension, after reactivation", b.session("resident"), 401, "unauthenticated")
		}
		e.browser().mustLogin("resident", "juan@example.com", residentPassword)
	})
}

// TestEndingSessionsRefusesLoginsThatReadTheAccountBefore: "end all my
// other sessions" and an admin's revocation also refuse a session whose
// login read the account before they committed and wrote it after. The
// interleaving is made exactly: the login's account read, the end, then
// the login's session write (the handler's own session manager), and the
// session is checked through the handler.
func TestEndingSessionsRefusesLoginsThatReadTheAccountBefore(t *testing.T) {
	t.Parallel()
	ends := []struct {
		name  string
		end   func(e *env, keeper *browser) *response
		keeps bool // the keeper's session survives
	}{
		{"end my other sessions", func(_ *env, keeper *browser) *response {
			return keeper.do("DELETE", "/v1/resident/sessions", nil)
		}, true},
		{"admin ends every session", func(e *env, _ *browser) *response {
			admin := e.browser()
			admin.mustLogin("admin", "boss", adminPassword)
			id, _ := e.app.Store.LookupIdentifier(context.Background(), account.Resident, account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"})
			return admin.do("DELETE", "/v1/admin/accounts/resident/"+id+"/sessions", nil)
		}, false},
	}
	for _, c := range ends {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			forEachStore(t, func(t *testing.T, store envOption) {
				e := newEnv(t, store)
				id := e.approvedResident()
				keeper := e.browser()
				keeper.mustLogin("resident", "juan@example.com", residentPassword)
				before, err := e.app.Accounts.Get(context.Background(), account.Resident, id)
				if err != nil {
					t.Fatal(err)
				}
				if r := c.end(e, keeper); r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", c.name, r.status, r.body)
				}
				tok, _, err := e.app.Sessions.Start(context.Background(), before, "127.0.0.1", "racing login", "")
				if err != nil {
					t.Fatal(err)
				}
				late := e.browser()
				late.setCookie("ekolek_session", tok)
				wantStatus(t, "a session of a login that read the account before the end", late.session("resident"), 401, "unauthenticated")
				if r := keeper.session("resident"); c.keeps && r.status != http.StatusOK || !c.keeps && r.status != http.StatusUnauthorized {
					t.Fatalf("the caller's own session after %s: %d %s", c.name, r.status, r.body)
				}

				after := e.browser()
				after.mustLogin("resident", "juan@example.com", residentPassword)
				if r := after.session("resident"); r.status != http.StatusOK {
					t.Fatalf("a login after the end: %d %s", r.status, r.body)
				}
			})
		})
	}
}
