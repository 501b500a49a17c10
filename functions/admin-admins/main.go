// Command admin-admins is a Lambda function: it serves the "admin-admins" rows
// of the route table (shared/httpapi/routes.go) behind API Gateway. Its
// routes use none of the optional parts (app.Parts); an invitation is queued
// in the outbox, which function sender delivers.
package main

import "github.com/ekolek/identity/shared/app"

func main() {
	app.StartLambda("admin-admins", app.Parts{})
}
