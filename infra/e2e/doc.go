// Package e2e is the browser suite: the pages (package web) and the API as
// `make run` serves them, driven in real headless Chromium through the
// stable hooks of the pages (data-page, data-form, data-action,
// data-notice, data-error, ...), with axe-core in every page. It has only
// tests; see harness_test.go for how a test gets a system and a browser.
package e2e
