// Package samcheck checks that template.yaml and events/ agree with the route table.
package samcheck
