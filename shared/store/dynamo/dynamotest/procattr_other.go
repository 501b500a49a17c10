//go:build !linux

package dynamotest

import "os/exec"

// setParentDeathSignal has no portable equivalent outside Linux: there,
// without TestMain calling Main, DynamoDB Local outlives the test binary.
func setParentDeathSignal(*exec.Cmd) {}
