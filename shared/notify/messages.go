package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// Kind names one of the messages the platform sends.
type Kind string

// The messages the platform sends.
const (
	VerifyEmail     Kind = "verify_email"     // a code that proves the email address
	VerifyPhone     Kind = "verify_phone"     // a code that proves the mobile number
	ResetCode       Kind = "reset_code"       // a password reset code
	PasswordChanged Kind = "password_changed" // notice after a password change or reset
	AdminInvitation Kind = "admin_invitation" // a new admin's username and invitation code
	// The second factor's notices: a factor (or a new set of recovery
	// codes) added, a factor removed, a recovery code used to sign in,
	// every factor cleared by a super admin.
	FactorAdded      Kind = "factor_added"
	FactorRemoved    Kind = "factor_removed"
	RecoveryCodeUsed Kind = "recovery_code_used"
	FactorsCleared   Kind = "factors_cleared"
)

// Data fills in a message. Code and Minutes are for the kinds that carry a
// code; Username is for AdminInvitation; Factor for FactorAdded and
// FactorRemoved; Left for RecoveryCodeUsed.
type Data struct {
	Name     string // the person's name, for the email greeting
	Code     string
	Minutes  int // how long the code stays valid
	Username string
	// Factor is what was added or removed: "totp" (an authenticator app),
	// "webauthn" (a passkey) or "recovery" (a new set of recovery codes).
	Factor string
	// Left is how many recovery codes are left.
	Left int
}

// Compose returns the message of kind in lang ("en" or "fil"; anything else
// is English) for channel ch, addressed to to. SMS texts leave out the name:
// a name can hold characters outside GSM-7 (which would turn the SMS into
// UCS-2 with 70 characters a segment) and any length, and a code needs no
// greeting. Every SMS then fits one GSM-7 segment as long as Minutes has at
// most two digits or is whole hours or days, and, for AdminInvitation, the
// username has at most 16 characters (21 in English). Compose panics on a Kind it does not know, a programming error
// like a bad template.
func Compose(kind Kind, lang string, ch Channel, to string, data Data) Message {
	l := pickLanguage(lang)
	c := l.content(kind, data)
	if ch == SMS {
		return Message{Channel: SMS, To: to, Text: c.sms}
	}
	e := emailView{
		Lang:     l.tag,
		Subject:  c.subject,
		Greeting: l.greeting(data.Name),
		Lead:     c.lead,
		Code:     c.code,
		Rest:     c.rest,
		SignOff:  l.signOff,
	}
	return Message{Channel: ch, To: to, Subject: c.subject, Text: e.text(), HTML: e.html()}
}

// content is what a message says, before layout.
type content struct {
	subject string
	lead    []string // paragraphs before the code
	code    string   // shown on its own line; empty when the message has none
	rest    []string // paragraphs after the code
	sms     string   // the whole SMS: GSM-7, one segment (≤ 160 characters)
}

type language struct {
	tag      string
	signOff  string
	greeting func(name string) string
	content  func(kind Kind, d Data) content
}

// pickLanguage accepts a BCP 47 tag ("fil", "fil-PH", any case); everything
// that is not Filipino is English.
func pickLanguage(tag string) language {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	if primary == "fil" {
		return filipino
	}
	return english
}

var english = language{
	tag:     "en",
	signOff: "E-KOLEK, City Environment Office",
	greeting: func(name string) string {
		if name = strings.TrimSpace(name); name == "" {
			return "Hello,"
		}
		return "Hi " + name + ","
	},
	content: englishContent,
}

// englishDuration says how long a code lasts in the largest whole unit.
func englishDuration(m int) string {
	switch {
	case m > 0 && m%(24*60) == 0:
		return plural(m/(24*60), "day", "days")
	case m > 0 && m%60 == 0:
		return plural(m/60, "hour", "hours")
	default:
		return plural(m, "minute", "minutes")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

const neverShareEN = "Never share this code with anyone, not even E-KOLEK staff."

// ifNotYouEN closes every notice of a change to the account's security.
const ifNotYouEN = "If this was you, there is nothing more to do. If it was not you, contact the City Environment Office right away so they can secure your account."

// englishFactor names a second factor as a notice speaks of it.
func englishFactor(f string) string {
	switch f {
	case "webauthn":
		return "A passkey"
	case "recovery":
		return "A new set of recovery codes"
	}
	return "An authenticator app"
}

func englishContent(kind Kind, d Data) content {
	expires := "It expires in " + englishDuration(d.Minutes) + "."
	switch kind {
	case VerifyEmail:
		return content{
			subject: "Your E-KOLEK verification code",
			lead:    []string{"Use this code to verify your email address for E-KOLEK:"},
			code:    d.Code,
			rest:    []string{expires + " " + neverShareEN},
			sms:     "Your E-KOLEK email verification code is " + d.Code + ". " + expires + " Never share it with anyone.",
		}
	case VerifyPhone:
		return content{
			subject: "Your E-KOLEK verification code",
			lead:    []string{"Use this code to verify your mobile number for E-KOLEK:"},
			code:    d.Code,
			rest:    []string{expires + " " + neverShareEN},
			sms:     "Your E-KOLEK verification code is " + d.Code + ". " + expires + " Never share it with anyone.",
		}
	case ResetCode:
		return content{
			subject: "Your E-KOLEK password reset code",
			lead:    []string{"We received a request to reset the password of your E-KOLEK account. Your password reset code is:"},
			code:    d.Code,
			rest: []string{
				expires + " " + neverShareEN,
				"If you did not ask for this, ignore this email. Your password stays the same.",
			},
			sms: "Your E-KOLEK password reset code is " + d.Code + ". " + expires + " Never share it. If you did not ask for this, ignore this message.",
		}
	case PasswordChanged:
		return content{
			subject: "Your E-KOLEK password was changed",
			lead: []string{
				"The password of your E-KOLEK account was changed.",
				"If this was you, there is nothing more to do. If it was not you, contact the City Environment Office right away so they can secure your account.",
			},
			sms: "Your E-KOLEK password was changed. If this was not you, contact the City Environment Office right away.",
		}
	case FactorAdded:
		lead := englishFactor(d.Factor) + " was added to your E-KOLEK account, for the second step of signing in."
		if d.Factor == "recovery" {
			lead = "A new set of recovery codes was made for your E-KOLEK account. The old codes no longer work."
		}
		return content{
			subject: "A way to sign in was added to your E-KOLEK account",
			lead:    []string{lead, ifNotYouEN},
			sms:     englishFactor(d.Factor) + " was added to your E-KOLEK account. If this was not you, contact the City Environment Office right away.",
		}
	case FactorRemoved:
		return content{
			subject: "A way to sign in was removed from your E-KOLEK account",
			lead:    []string{englishFactor(d.Factor) + " was removed from your E-KOLEK account.", ifNotYouEN},
			sms:     englishFactor(d.Factor) + " was removed from your E-KOLEK account. If this was not you, contact the City Environment Office right away.",
		}
	case RecoveryCodeUsed:
		return content{
			subject: "A recovery code was used to sign in to E-KOLEK",
			lead: []string{
				"Someone signed in to your E-KOLEK account with one of its recovery codes. " + plural(d.Left, "recovery code is", "recovery codes are") + " left; you can make a new set on your account page.",
				ifNotYouEN,
			},
			sms: "A recovery code was used to sign in to your E-KOLEK account. If this was not you, contact the City Environment Office right away.",
		}
	case FactorsCleared:
		return content{
			subject: "The second step of signing in to E-KOLEK was reset",
			lead: []string{
				"The City Environment Office removed every second step of signing in to your E-KOLEK account (authenticator apps, passkeys and recovery codes) and signed the account out everywhere. After you sign in you can add them again.",
				"If you did not ask for this, contact the City Environment Office right away.",
			},
			sms: "The City Environment Office removed the second step of signing in to your E-KOLEK account. If you did not ask for this, contact them right away.",
		}
	case AdminInvitation:
		return content{
			subject: "Your E-KOLEK admin account",
			lead: []string{
				"An E-KOLEK admin account was created for you. Your username is " + d.Username + ".",
				"Your invitation code is:",
			},
			code: d.Code,
			rest: []string{
				expires + " To set your password, open the password reset page of the E-KOLEK admin site, enter your username and this invitation code, then choose your password.",
				neverShareEN,
			},
			sms: "E-KOLEK username: " + d.Username + ". Invitation code: " + d.Code + ", expires in " + englishDuration(d.Minutes) + ". Use it on the password reset page to set your password. Never share it.",
		}
	}
	panic(fmt.Sprintf("notify: unknown message kind %q", kind))
}

var filipino = language{
	tag:     "fil",
	signOff: "E-KOLEK, Tanggapan ng Kapaligiran ng Lungsod",
	greeting: func(name string) string {
		if name = strings.TrimSpace(name); name == "" {
			return "Magandang araw!"
		}
		return "Magandang araw, " + name + "!"
	},
	content: filipinoContent,
}

// filipinoDuration says how long a code lasts in the largest whole unit;
// Filipino nouns do not change for the plural.
func filipinoDuration(m int) string {
	switch {
	case m > 0 && m%(24*60) == 0:
		return fmt.Sprintf("%d araw", m/(24*60))
	case m > 0 && m%60 == 0:
		return fmt.Sprintf("%d oras", m/60)
	default:
		return fmt.Sprintf("%d minuto", m)
	}
}

const neverShareFIL = "Huwag itong ibahagi kaninuman, kahit sa mga kawani ng E-KOLEK."

// ifNotYouFIL closes every notice of a change to the account's security.
const ifNotYouFIL = "Kung ikaw ito, wala ka nang kailangang gawin. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran ng lungsod para maprotektahan ang iyong account."

// filipinoFactor names a second factor as a notice speaks of it.
func filipinoFactor(f string) string {
	switch f {
	case "webauthn":
		return "isang passkey"
	case "recovery":
		return "bagong set ng recovery codes"
	}
	return "isang authenticator app"
}

func filipinoContent(kind Kind, d Data) content {
	expires := "Mag-e-expire ito sa loob ng " + filipinoDuration(d.Minutes) + "."
	switch kind {
	case VerifyEmail:
		return content{
			subject: "Ang iyong E-KOLEK verification code",
			lead:    []string{"Gamitin ang code na ito para ma-verify ang iyong email address sa E-KOLEK:"},
			code:    d.Code,
			rest:    []string{expires + " " + neverShareFIL},
			sms:     "Ang iyong E-KOLEK email verification code ay " + d.Code + ". " + expires + " Huwag itong ibahagi kaninuman.",
		}
	case VerifyPhone:
		return content{
			subject: "Ang iyong E-KOLEK verification code",
			lead:    []string{"Gamitin ang code na ito para ma-verify ang iyong mobile number sa E-KOLEK:"},
			code:    d.Code,
			rest:    []string{expires + " " + neverShareFIL},
			sms:     "Ang iyong E-KOLEK verification code ay " + d.Code + ". " + expires + " Huwag itong ibahagi kaninuman.",
		}
	case ResetCode:
		return content{
			subject: "Ang iyong E-KOLEK password reset code",
			lead:    []string{"May humiling na i-reset ang password ng iyong E-KOLEK account. Ang iyong password reset code ay:"},
			code:    d.Code,
			rest: []string{
				expires + " " + neverShareFIL,
				"Kung hindi ikaw ang humiling nito, huwag pansinin ang email na ito. Hindi magbabago ang iyong password.",
			},
			sms: "E-KOLEK password reset code: " + d.Code + ". " + expires + " Huwag itong ibahagi. Kung hindi ikaw ang humiling nito, huwag itong pansinin.",
		}
	case PasswordChanged:
		return content{
			subject: "Napalitan ang password ng iyong E-KOLEK account",
			lead: []string{
				"Napalitan ang password ng iyong E-KOLEK account.",
				"Kung ikaw ito, wala ka nang kailangang gawin. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran ng lungsod para maprotektahan ang iyong account.",
			},
			sms: "Napalitan ang password ng iyong E-KOLEK account. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran ng lungsod.",
		}
	case FactorAdded:
		lead := "Idinagdag ang " + filipinoFactor(d.Factor) + " sa iyong E-KOLEK account, para sa pangalawang hakbang ng pag-sign in."
		if d.Factor == "recovery" {
			lead = "Gumawa ng bagong set ng recovery codes para sa iyong E-KOLEK account. Hindi na gagana ang mga luma."
		}
		return content{
			subject: "May idinagdag na paraan ng pag-sign in sa iyong E-KOLEK account",
			lead:    []string{lead, ifNotYouFIL},
			sms:     "Idinagdag ang " + filipinoFactor(d.Factor) + " sa iyong E-KOLEK account. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran.",
		}
	case FactorRemoved:
		return content{
			subject: "May inalis na paraan ng pag-sign in sa iyong E-KOLEK account",
			lead:    []string{"Inalis ang " + filipinoFactor(d.Factor) + " sa iyong E-KOLEK account.", ifNotYouFIL},
			sms:     "Inalis ang " + filipinoFactor(d.Factor) + " sa iyong E-KOLEK account. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran.",
		}
	case RecoveryCodeUsed:
		return content{
			subject: "Ginamit ang isang recovery code ng iyong E-KOLEK account",
			lead: []string{
				fmt.Sprintf("May nag-sign in sa iyong E-KOLEK account gamit ang isa sa mga recovery code nito. %d recovery code na lang ang natitira; makagagawa ka ng bagong set sa pahina ng iyong account.", d.Left),
				ifNotYouFIL,
			},
			sms: "Ginamit ang isang recovery code para mag-sign in sa iyong E-KOLEK account. Kung hindi ikaw ito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran.",
		}
	case FactorsCleared:
		return content{
			subject: "Na-reset ang pangalawang hakbang ng pag-sign in sa E-KOLEK",
			lead: []string{
				"Inalis ng Tanggapan ng Kapaligiran ng lungsod ang lahat ng pangalawang hakbang ng pag-sign in sa iyong E-KOLEK account (authenticator app, passkey at recovery codes) at na-sign out ang account sa lahat ng device. Maaari mo silang idagdag muli pagka-sign in mo.",
				"Kung hindi ikaw ang humiling nito, makipag-ugnayan agad sa Tanggapan ng Kapaligiran ng lungsod.",
			},
			sms: "Inalis ng Tanggapan ng Kapaligiran ang pangalawang hakbang ng pag-sign in sa iyong E-KOLEK account. Kung hindi ikaw ang humiling nito, tumawag agad.",
		}
	case AdminInvitation:
		return content{
			subject: "Ang iyong E-KOLEK admin account",
			lead: []string{
				"Ginawan ka ng admin account sa E-KOLEK. Ang iyong username ay " + d.Username + ".",
				"Ang iyong invitation code ay:",
			},
			code: d.Code,
			rest: []string{
				expires + " Para itakda ang iyong password, buksan ang password reset page ng E-KOLEK admin site, ilagay ang iyong username at ang invitation code na ito, saka pumili ng password.",
				neverShareFIL,
			},
			sms: "E-KOLEK username: " + d.Username + ". Invitation code: " + d.Code + ", mag-e-expire sa loob ng " + filipinoDuration(d.Minutes) + ". Itakda ang password sa password reset page. Huwag itong ibahagi.",
		}
	}
	panic(fmt.Sprintf("notify: unknown message kind %q", kind))
}

// emailView is an email laid out as paragraphs, shared by the text and the
// HTML part so the two cannot say different things.
type emailView struct {
	Lang, Subject, Greeting string
	Lead                    []string
	Code                    string
	Rest                    []string
	SignOff                 string
}

func (e emailView) text() string {
	parts := []string{e.Greeting}
	parts = append(parts, e.Lead...)
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	parts = append(parts, e.Rest...)
	parts = append(parts, e.SignOff)
	return strings.Join(parts, "\n\n") + "\n"
}

// emailHTML escapes every value it is given (names come from users), and
// keeps styles inline because mail clients drop <style> blocks.
var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:24px;background:#f4f7f4;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933">
<div style="max-width:560px;margin:0 auto;padding:24px;background:#ffffff;border-radius:8px">
<p style="margin:0 0 16px;font-size:20px;font-weight:bold;color:#2f6b2f">E-KOLEK</p>
<p>{{.Greeting}}</p>
{{range .Lead}}<p>{{.}}</p>
{{end}}{{with .Code}}<p style="margin:16px 0;font-size:32px;font-weight:bold;letter-spacing:8px;font-family:'Courier New',monospace">{{.}}</p>
{{end}}{{range .Rest}}<p>{{.}}</p>
{{end}}<p style="margin-top:24px;color:#52606d">{{.SignOff}}</p>
</div>
</body>
</html>
`))

func (e emailView) html() string {
	var b bytes.Buffer
	if err := emailHTML.Execute(&b, e); err != nil {
		// Only strings and slices of strings go in: Execute cannot fail
		// short of a broken template, which the tests would catch.
		panic(fmt.Sprintf("notify: email template: %v", err))
	}
	return b.String()
}
