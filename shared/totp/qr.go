package totp

import (
	"fmt"
	"html"
	"strings"

	qr "github.com/piglig/go-qr"
)

// quietZone is the light margin around a QR code, in modules (the
// standard's minimum is 4).
const quietZone = 4

// qrTitle names the picture for screen readers; the page beside it shows
// the same secret as text.
const qrTitle = "QR code of the authenticator key"

// QRSVG draws text (an otpauth:// URI) as a QR code in SVG: one square per
// module, drawn as one path of row runs in a viewBox of whole modules, so
// it scales to any size crisply. It is small (a few KB), needs no request
// to anyone, and carries role="img" and a <title> for screen readers. The
// library gives the module matrix; its own SVG has no title, so the
// drawing is ours.
func QRSVG(text string) (string, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return "", fmt.Errorf("totp: qr code: %w", err)
	}
	n := code.Size()
	side := n + 2*quietZone
	var path strings.Builder
	for y := range n {
		for x := 0; x < n; {
			if !code.Module(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < n && code.Module(x+run, y) {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, run, run)
			x += run
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="qr-title" shape-rendering="crispEdges">`+
		`<title id="qr-title">%s</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		side, side, html.EscapeString(qrTitle), side, side, path.String()), nil
}
