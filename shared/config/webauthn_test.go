package config

import (
	"slices"
	"strings"
	"testing"
)

func TestSecondFactorDefaults(t *testing.T) {
	c, err := Load(env(localEnv(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebAuthnRPID != "localhost" || !slices.Equal(c.WebAuthnOrigins, []string{"http://localhost:8080"}) || !c.AdminMFARequired {
		t.Errorf("RP %q, origins %v, admin MFA required %v; want localhost, [http://localhost:8080], true",
			c.WebAuthnRPID, c.WebAuthnOrigins, c.AdminMFARequired)
	}
}

func TestSecondFactorSettings(t *testing.T) {
	c, err := Load(env(prodEnv(map[string]string{
		"EKOLEK_WEBAUTHN_RP_ID":   "Ekolek.Example.Gov.PH",
		"EKOLEK_WEBAUTHN_ORIGINS": "https://ekolek.example.gov.ph, https://console.ekolek.example.gov.ph:8443/",
		"EKOLEK_ADMIN_MFA":        "optional",
	})))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://ekolek.example.gov.ph", "https://console.ekolek.example.gov.ph:8443"}
	if c.WebAuthnRPID != "ekolek.example.gov.ph" || !slices.Equal(c.WebAuthnOrigins, want) || c.AdminMFARequired {
		t.Errorf("RP %q, origins %v, admin MFA required %v", c.WebAuthnRPID, c.WebAuthnOrigins, c.AdminMFARequired)
	}
}

func TestSecondFactorRefused(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"EKOLEK_ADMIN_MFA": "sometimes"}, "EKOLEK_ADMIN_MFA"},
		{map[string]string{"EKOLEK_WEBAUTHN_RP_ID": "127.0.0.1", "EKOLEK_WEBAUTHN_ORIGINS": "http://127.0.0.1:8080"}, "EKOLEK_WEBAUTHN_RP_ID"},
		{map[string]string{"EKOLEK_WEBAUTHN_RP_ID": "https://example.com"}, "EKOLEK_WEBAUTHN_RP_ID"},
		{map[string]string{"EKOLEK_WEBAUTHN_RP_ID": "example.com:443"}, "EKOLEK_WEBAUTHN_RP_ID"},
		{map[string]string{"EKOLEK_WEBAUTHN_ORIGINS": "localhost:8080"}, "EKOLEK_WEBAUTHN_ORIGINS"},
		{map[string]string{"EKOLEK_WEBAUTHN_ORIGINS": "ftp://localhost"}, "EKOLEK_WEBAUTHN_ORIGINS"},
		{map[string]string{"EKOLEK_WEBAUTHN_ORIGINS": "http://localhost:8080/login"}, "EKOLEK_WEBAUTHN_ORIGINS"},
		{map[string]string{"EKOLEK_WEBAUTHN_ORIGINS": "http://localhost:8080,"}, "EKOLEK_WEBAUTHN_ORIGINS"},
		{map[string]string{"EKOLEK_WEBAUTHN_ORIGINS": "https://evil-localhost"}, "EKOLEK_WEBAUTHN_ORIGINS"},
		{map[string]string{"EKOLEK_WEBAUTHN_RP_ID": "example.com", "EKOLEK_WEBAUTHN_ORIGINS": "https://example.com.evil.net"}, "EKOLEK_WEBAUTHN_ORIGINS"},
	} {
		_, err := Load(env(localEnv(t, tc.env)))
		if err == nil || !strings.Contains(err.Error(), tc.name+":") {
			t.Errorf("%v: got %v, want an error naming %s", tc.env, err, tc.name)
		}
	}
}
