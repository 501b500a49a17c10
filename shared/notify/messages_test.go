package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/notify"
)

var allKinds = []notify.Kind{notify.VerifyEmail, notify.VerifyPhone, notify.ResetCode, notify.PasswordChanged, notify.AdminInvitation,
	notify.FactorAdded, notify.FactorRemoved, notify.RecoveryCodeUsed, notify.FactorsCleared}

// codeKinds carry a code.
var codeKinds = map[notify.Kind]bool{notify.VerifyEmail: true, notify.VerifyPhone: true, notify.ResetCode: true, notify.AdminInvitation: true}

// gsm7Basic is the GSM 03.38 default alphabet (one septet each);
// gsm7Extension needs an escape, so two septets each.
const (
	gsm7Basic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// septets counts s in GSM-7 septets, or reports the first rune outside it.
func septets(s string) (int, error) {
	n := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			n++
		case strings.ContainsRune(gsm7Extension, r):
			n += 2
		default:
			return 0, fmt.Errorf("%q is not in GSM-7", r)
		}
	}
	return n, nil
}

func TestSeptetsCatchesWhatWouldBreakASegment(t *testing.T) {
	if n, err := septets("Peña {x}"); err != nil || n != 10 {
		t.Errorf("septets(Peña {x}) = %d, %v; want 10", n, err)
	}
	for _, s := range []string{"Niño’s", "José María Ángeles", "—"} {
		if _, err := septets(s); err == nil {
			t.Errorf("septets(%q) accepted a character outside GSM-7", s)
		}
	}
}

func TestSMSIsOneGSM7Segment(t *testing.T) {
	names := []string{"Ma. Cristina Dela Cruz-Peña", "José María Ángeles de los Santos y Villanueva"}
	// Usernames are 3-32 of [A-Za-z0-9._-]; an invitation SMS stays in one
	// segment up to 16 characters, which covers the usual first.last forms.
	usernames := []string{"maria.delacruz", "jsantos", "j.santos-reyes_2"}
	for _, lang := range []string{"en", "fil"} {
		for _, kind := range allKinds {
			for _, minutes := range []int{1, 10, 59, 90, 24 * 60, 7 * 24 * 60} {
				for _, name := range names {
					for _, username := range usernames {
						d := notify.Data{Name: name, Code: "048213", Minutes: minutes, Username: username}
						m := notify.Compose(kind, lang, notify.SMS, "+639171234567", d)
						if m.Channel != notify.SMS || m.To != "+639171234567" || m.Subject != "" || m.HTML != "" {
							t.Fatalf("%s/%s: SMS message %+v has email fields or lost its address", lang, kind, m)
						}
						n, err := septets(m.Text)
						if err != nil {
							t.Errorf("%s/%s: %v in %q", lang, kind, err, m.Text)
						} else if n > 160 {
							t.Errorf("%s/%s minutes=%d username=%s: %d septets > 160: %q", lang, kind, minutes, username, n, m.Text)
						}
					}
				}
			}
		}
	}
}

func TestEmailHTMLEscapesUserText(t *testing.T) {
	hostile := `<script>alert("x")</script> & <img src=x onerror=alert(1)>`
	for _, lang := range []string{"en", "fil"} {
		for _, kind := range allKinds {
			m := notify.Compose(kind, lang, notify.Email, "maria@example.com", notify.Data{Name: hostile, Code: "123456", Minutes: 10, Username: hostile})
			for _, raw := range []string{"<script", "<img", `alert("x")`} {
				if strings.Contains(m.HTML, raw) {
					t.Errorf("%s/%s: HTML holds %q unescaped:\n%s", lang, kind, raw, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("%s/%s: HTML lacks the escaped name:\n%s", lang, kind, m.HTML)
			}
			// The text part is plain text: the name goes in as written.
			if !strings.Contains(m.Text, hostile) {
				t.Errorf("%s/%s: text part lost the name:\n%s", lang, kind, m.Text)
			}
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	d := notify.Data{Name: "Maria", Code: "123456", Minutes: 10, Username: "maria.delacruz"}
	for _, kind := range allKinds {
		en := notify.Compose(kind, "en", notify.Email, "maria@example.com", d)
		fil := notify.Compose(kind, "fil", notify.Email, "maria@example.com", d)
		if en.Subject == fil.Subject || en.Text == fil.Text || en.HTML == fil.HTML {
			t.Errorf("%s: English and Filipino are the same message", kind)
		}
		if !strings.Contains(fil.HTML, `<html lang="fil">`) || !strings.Contains(en.HTML, `<html lang="en">`) {
			t.Errorf("%s: HTML lang attribute does not follow the language", kind)
		}
		if !strings.Contains(fil.Text, "Magandang araw, Maria!") {
			t.Errorf("%s: Filipino text lacks the Filipino greeting:\n%s", kind, fil.Text)
		}
		for _, lang := range []string{"fil-PH", "FIL", " fil "} {
			if got := notify.Compose(kind, lang, notify.Email, "maria@example.com", d); got != fil {
				t.Errorf("%s: language %q did not give Filipino", kind, lang)
			}
		}
		for _, lang := range []string{"", "xx", "en-PH", "tl", "filipino"} {
			if got := notify.Compose(kind, lang, notify.Email, "maria@example.com", d); got != en {
				t.Errorf("%s: language %q did not fall back to English", kind, lang)
			}
			if got, want := notify.Compose(kind, lang, notify.SMS, "+639171234567", d), notify.Compose(kind, "en", notify.SMS, "+639171234567", d); got != want {
				t.Errorf("%s: SMS in language %q did not fall back to English", kind, lang)
			}
		}
	}
}

// phrases a message must carry, per language.
var phrases = map[string]struct {
	expires, neverShare, ignore, office, resetPage string
}{
	"en":  {expires: "expires in 10 minutes", neverShare: "Never share", ignore: "If you did not ask for this, ignore", office: "City Environment Office", resetPage: "password reset page"},
	"fil": {expires: "sa loob ng 10 minuto", neverShare: "Huwag itong ibahagi", ignore: "Kung hindi ikaw ang humiling nito, huwag", office: "Tanggapan ng Kapaligiran", resetPage: "password reset page"},
}

func TestMessagesSayWhatTheyMust(t *testing.T) {
	d := notify.Data{Name: "Maria", Code: "907314", Minutes: 10, Username: "maria.delacruz"}
	for lang, p := range phrases {
		for _, kind := range allKinds {
			for _, ch := range []notify.Channel{notify.Email, notify.SMS} {
				m := notify.Compose(kind, lang, ch, "x", d)
				bodies := map[string]string{"text": m.Text}
				if ch == notify.Email {
					bodies["html"] = m.HTML
					if !strings.Contains(m.Subject, "E-KOLEK") {
						t.Errorf("%s/%s: subject %q lacks the brand", lang, kind, m.Subject)
					}
				}
				for part, body := range bodies {
					must := []string{"E-KOLEK"}
					if codeKinds[kind] {
						must = append(must, d.Code, p.expires, p.neverShare)
					} else if strings.Contains(body, d.Code) {
						t.Errorf("%s/%s/%s %s: carries a code it should not have", lang, kind, ch, part)
					}
					switch kind {
					case notify.ResetCode:
						must = append(must, p.ignore)
					case notify.PasswordChanged, notify.FactorAdded, notify.FactorRemoved, notify.RecoveryCodeUsed, notify.FactorsCleared:
						must = append(must, p.office)
					case notify.AdminInvitation:
						must = append(must, d.Username, p.resetPage)
					}
					for _, s := range must {
						if !strings.Contains(body, s) {
							t.Errorf("%s/%s/%s %s lacks %q:\n%s", lang, kind, ch, part, s, body)
						}
					}
					for _, link := range []string{"http:", "https:", "www.", "href"} {
						if strings.Contains(body, link) {
							t.Errorf("%s/%s/%s %s holds a link (%q)", lang, kind, ch, part, link)
						}
					}
				}
			}
		}
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		minutes int
		en, fil string
	}{
		{1, "in 1 minute.", "sa loob ng 1 minuto."},
		{10, "in 10 minutes.", "sa loob ng 10 minuto."},
		{90, "in 90 minutes.", "sa loob ng 90 minuto."},
		{60, "in 1 hour.", "sa loob ng 1 oras."},
		{120, "in 2 hours.", "sa loob ng 2 oras."},
		{24 * 60, "in 1 day.", "sa loob ng 1 araw."},
		{3 * 24 * 60, "in 3 days.", "sa loob ng 3 araw."},
	}
	for _, tt := range tests {
		d := notify.Data{Code: "123456", Minutes: tt.minutes}
		if got := notify.Compose(notify.ResetCode, "en", notify.Email, "x", d).Text; !strings.Contains(got, tt.en) {
			t.Errorf("%d minutes in English: want %q in\n%s", tt.minutes, tt.en, got)
		}
		if got := notify.Compose(notify.ResetCode, "fil", notify.Email, "x", d).Text; !strings.Contains(got, tt.fil) {
			t.Errorf("%d minutes in Filipino: want %q in\n%s", tt.minutes, tt.fil, got)
		}
	}
}

func TestEmailGreetingWithoutName(t *testing.T) {
	d := notify.Data{Code: "123456", Minutes: 10}
	if got := notify.Compose(notify.VerifyEmail, "en", notify.Email, "x", d).Text; !strings.HasPrefix(got, "Hello,\n") {
		t.Errorf("English greeting without a name: %q", got)
	}
	if got := notify.Compose(notify.VerifyEmail, "fil", notify.Email, "x", d).Text; !strings.HasPrefix(got, "Magandang araw!\n") {
		t.Errorf("Filipino greeting without a name: %q", got)
	}
}

func TestComposeUnknownKindPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Compose of an unknown kind did not panic")
		}
	}()
	notify.Compose(notify.Kind("bogus"), "en", notify.Email, "x", notify.Data{})
}
