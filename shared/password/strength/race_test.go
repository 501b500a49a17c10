//go:build race

package strength

const raceEnabled = true
