package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Where the CPU went during the mixed phase: the local API, DynamoDB
// Local, this program (the workers and the counting proxy), and the rest
// of the machine, read from Linux's /proc before and after. On a shared
// 2-core machine throughput says little without it: the other processes'
// share shows how much of the machine the run had.

// ticksPerSecond is Linux's USER_HZ, the unit of /proc's CPU times (100
// on every common configuration; reading sysconf would need cgo).
const ticksPerSecond = 100

// cpuSample is CPU seconds used so far; a field is -1 when not known.
type cpuSample struct {
	api, dynamo, self float64
	busy, total       float64 // the whole machine, every core
}

// sampleCPU reads the CPU times of the API (pid api), DynamoDB Local
// (pid dynamo, 0 when not known) and this process, and the machine's.
func sampleCPU(api, dynamo int) cpuSample {
	s := cpuSample{api: procCPU(api), dynamo: -1, self: procCPU(os.Getpid()), busy: -1, total: -1}
	if dynamo > 0 {
		s.dynamo = procCPU(dynamo)
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 6 || f[0] != "cpu" {
		return s
	}
	var total, idle float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i < 8 { // guest times are counted in user already
			total += n
		}
		if i == 3 || i == 4 {
			idle += n
		}
	}
	s.total, s.busy = total/ticksPerSecond, (total-idle)/ticksPerSecond
	return s
}

// procCPU is the user and system CPU seconds process pid has used, -1
// when it cannot be read.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: fields after it are
	// counted from its closing parenthesis; utime and stime are 14 and 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	k, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return (u + k) / ticksPerSecond
}

// dynamoDBLocalPID is the process id of the DynamoDB Local that
// localstack/emulators.sh started (its pid file in EMULATORS_DIR), 0 when
// there is none to be found (a DynamoDB Local started otherwise).
func dynamoDBLocalPID() int {
	dir := os.Getenv("EMULATORS_DIR")
	if dir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "dynamodb.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmd), "DynamoDBLocal") {
		return 0
	}
	return pid
}

// cpuUse is the CPU used between two samples, over wall seconds.
func cpuUse(a, b cpuSample, wall float64, requests int) string {
	if b.total < 0 || a.total < 0 {
		return "not known (no /proc)"
	}
	cores := (b.total - a.total) / wall
	part := func(name string, x, y float64) string {
		if x < 0 || y < 0 {
			return name + " not known"
		}
		d := y - x
		return fmt.Sprintf("%s %.1f s (%.2f ms per request)", name, d, 1000*d/float64(requests))
	}
	parts := []string{part("the local API", a.api, b.api), part("DynamoDB Local", a.dynamo, b.dynamo), part("this program (workers and proxy)", a.self, b.self)}
	ours := 0.0
	for _, x := range [][2]float64{{a.api, b.api}, {a.dynamo, b.dynamo}, {a.self, b.self}} {
		if x[0] >= 0 && x[1] >= 0 {
			ours += x[1] - x[0]
		}
	}
	busy := b.busy - a.busy
	return fmt.Sprintf("%.0f core-seconds (%.1f cores × %.1f s): %s; the machine's other processes %.1f s; idle %.1f s",
		b.total-a.total, cores, wall, strings.Join(parts, ", "), busy-ours, (b.total-a.total)-busy)
}
