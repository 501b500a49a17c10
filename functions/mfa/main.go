// Command mfa is a Lambda function: it serves the "mfa" rows of the route
// table (shared/httpapi/routes.go) behind API Gateway: a signed-in
// account's second factors (list, TOTP enrollment, removal, new recovery
// codes) and the reauth that removal needs. It links only the parts its
// routes use (app.Parts): TOTP.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/totp"
)

func main() {
	app.StartLambda("mfa", app.Parts{TOTP: totp.App{}})
}
