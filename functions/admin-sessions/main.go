// Command admin-sessions is a Lambda function: it serves the "admin-sessions"
// rows of the route table (shared/httpapi/routes.go) behind API Gateway. Its
// routes use none of the optional parts (app.Parts), so it links none.
package main

import "github.com/ekolek/identity/shared/app"

func main() {
	app.StartLambda("admin-sessions", app.Parts{})
}
