package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Passkeys' relying party when nothing is configured: the local API as
// `make run` serves it. WebAuthn refuses an IP address as relying party
// id, so locally the pages are opened at http://localhost:8080, not
// 127.0.0.1.
const (
	DefaultWebAuthnRPID    = "localhost"
	DefaultWebAuthnOrigins = "http://localhost:8080"
)

// parseWebAuthn reads the relying party id and the comma-separated
// origins. The id is a lower-case domain name (no scheme, port or path,
// not an IP address); each origin is scheme://host[:port], http or https,
// whose host is the id or a name under it (WebAuthn's own rule). why maps
// a variable to what is wrong with it; nil when both are fine.
func parseWebAuthn(rpid, origins string) (string, []string, map[string]string) {
	why := map[string]string{}
	id := strings.ToLower(rpid)
	switch {
	case strings.ContainsAny(id, ":/?#@ ") || id == "" || strings.HasPrefix(id, ".") || strings.HasSuffix(id, "."):
		why["EKOLEK_WEBAUTHN_RP_ID"] = fmt.Sprintf("must be a domain name such as example.com (no scheme, port or path), got %q", rpid)
	case net.ParseIP(id) != nil:
		why["EKOLEK_WEBAUTHN_RP_ID"] = fmt.Sprintf("must be a domain name, not an IP address (WebAuthn refuses one), got %q", rpid)
	}
	var list []string
	for i, o := range strings.Split(origins, ",") {
		o = strings.TrimSpace(o)
		u, err := url.Parse(o)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
			why["EKOLEK_WEBAUTHN_ORIGINS"] = fmt.Sprintf("entry %d must be an origin such as https://example.com (scheme, host, optional port), got %q", i+1, o)
			return id, nil, why
		case why["EKOLEK_WEBAUTHN_RP_ID"] == "" && u.Hostname() != id && !strings.HasSuffix(u.Hostname(), "."+id):
			why["EKOLEK_WEBAUTHN_ORIGINS"] = fmt.Sprintf("entry %d (%s) is not on the relying party's domain %s", i+1, o, id)
			return id, nil, why
		}
		list = append(list, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	if len(why) > 0 {
		return id, nil, why
	}
	return id, list, nil
}
