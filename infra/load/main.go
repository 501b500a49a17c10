// Command load measures the session check under load beside its ceiling:
// the local API's GET /v1/resident/session (embedded store, access log
// written to a file) and a bare net/http handler that answers the very
// bytes the API answered (same headers, same body), each in its own
// process, loaded by the same generator (vegeta, as a library) in
// interleaved rounds. `make load` runs it; docs/performance.md has what
// it printed and why it measures the way it does.
//
// The generator keeps a fixed number of workers (-workers, 16), each
// sending its next request as soon as the previous answer is read, with
// no rate limit: a closed loop at full speed, so requests per second is
// what the server can answer, and both servers are held to the same
// concurrency. (An open loop at a fixed rate measures latency at a chosen
// load instead; above the server's capacity it only grows a queue.)
// Latencies are exact percentiles of every request of a run.
//
// `load dynamodb` (`make load-dynamodb`) is the other scenario: the local
// API on DynamoDB Local under a mix of logins, session checks, logouts,
// reset requests and registrations, with its DynamoDB calls counted, and
// the table and the log held afterwards to what every answer said
// (dynamo.go).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/logging"
)

// The resident the load logs in as.
const (
	residentEmail    = "load@example.com"
	residentPassword = "a long and unguessable load test passphrase"
)

// sessionPath is what is measured.
const sessionPath = "/v1/resident/session"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "load bare:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "dynamodb" {
		if err := dynamoMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "load dynamodb:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.api, "api", "bin/load/localapi", "the local API binary (go build ./infra/localapi)")
	flag.StringVar(&o.dir, "dir", "bin/load", "where the data directory, the API's log and the profiles go")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "each measured run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "an unmeasured run against each server first")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds (each round runs both servers, in alternating order)")
	flag.Uint64Var(&o.workers, "workers", 16, "concurrent workers (closed loop: each sends its next request when its answer is read)")
	flag.BoolVar(&o.profile, "profile", false, "instead of the rounds: one run against the API while it writes a CPU and an allocation profile into -dir")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type options struct {
	api, dir          string
	duration, warmup  time.Duration
	rounds            int
	workers           uint64
	profile           bool
	loadAverage       func() string // /proc/loadavg's first three fields; tests replace it
	startedAt         time.Time
	commandLineForDoc string
}

func run(o options, out io.Writer) error {
	if o.loadAverage == nil {
		o.loadAverage = loadAverage
	}
	o.startedAt = time.Now()
	o.commandLineForDoc = strings.Join(os.Args, " ")
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	if err := setUp(data); err != nil {
		return fmt.Errorf("setting up the resident: %w", err)
	}
	var apiArgs []string
	if o.profile {
		apiArgs = []string{"-cpuprofile", filepath.Join(dir, "cpu.pprof"), "-memprofile", filepath.Join(dir, "allocs.pprof")}
	}
	logPath := filepath.Join(dir, "localapi.log")
	api, err := startAPI(o.api, logPath, []string{"EKOLEK_ENV=local", "EKOLEK_STORE=embedded", "EKOLEK_NOTIFIER=outbox", "EKOLEK_DATA_DIR=" + data}, apiArgs)
	if err != nil {
		return err
	}
	defer api.stop()
	cookie, err := logIn(api.url)
	if err != nil {
		return err
	}
	header, body, err := sample(api.url, cookie)
	if err != nil {
		return err
	}
	sent := 3 // the readiness probe, the login and the sample

	if o.profile {
		r, err := attack(api.url, cookie, o.workers, o.duration)
		if err != nil {
			return err
		}
		if err := api.stop(); err != nil {
			return err
		}
		fmt.Fprintf(out, "profiled run: %s; profiles in %s (cpu.pprof, allocs.pprof)\n", r, dir)
		return nil
	}

	bare, err := startBare(header, body)
	if err != nil {
		return err
	}
	defer bare.stop()
	servers := []*server{api, bare}
	for _, s := range servers {
		r, err := attack(s.url, cookie, o.workers, o.warmup)
		if err != nil {
			return fmt.Errorf("%s warm-up: %w", s.name, err)
		}
		if s == api {
			sent += r.requests
		}
	}
	var rounds [][2]result
	for i := range o.rounds {
		order := servers
		if i%2 == 1 {
			order = []*server{bare, api}
		}
		var pair [2]result
		for _, s := range order {
			load := o.loadAverage()
			r, err := attack(s.url, cookie, o.workers, o.duration)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", s.name, i+1, err)
			}
			r.load = load
			if s == api {
				pair[0] = r
				sent += r.requests
			} else {
				pair[1] = r
			}
		}
		rounds = append(rounds, pair)
	}
	if err := api.stop(); err != nil {
		return err
	}
	lines, err := accessLines(logPath)
	if err != nil {
		return err
	}
	report(out, o, rounds, len(body), lines, sent)
	if lines < sent {
		return fmt.Errorf("the API's log has %d access log lines for %d requests", lines, sent)
	}
	return nil
}

// setUp creates an approved resident in a new data directory, with the
// store and services the local API runs on (it is the same code and the
// same file; the API opens it afterwards).
func setUp(data string) error {
	env := map[string]string{"EKOLEK_ENV": "local", "EKOLEK_STORE": "embedded", "EKOLEK_DATA_DIR": data}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, logging.New(io.Discard, slog.LevelInfo), app.Options{Parts: allparts.Parts()})
	if err != nil {
		return err
	}
	defer a.Close()
	acct, _, err := a.Accounts.Register(ctx, account.Registration{
		FirstName: "Load", LastName: "Tester", Email: residentEmail, Phone: "09171234567", Barangay: "Landayan", Password: residentPassword,
	})
	if err != nil {
		return err
	}
	staff := account.Account{Realm: account.Admin, Role: account.RoleSuperAdmin}
	_, _, _, err = a.Accounts.ChangeResidentStatus(ctx, staff, acct.ID, account.ActionApprove, "")
	return err
}

// server is a server process under load.
type server struct {
	name, url string
	cmd       *exec.Cmd
	done      chan error
	stopped   bool
}

// stop ends the process (SIGTERM: the local API shuts down cleanly and
// writes its profiles) and waits for it.
func (s *server) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 10 s", s.name)
	}
}

// startAPI runs the local API on a free loopback port, configured by env
// (EKOLEK_ variables), its standard output and error (the JSON log) into
// logPath.
func startAPI(bin, logPath string, env, args []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	// The API's configuration is env alone (a shell that ran
	// emulators.sh start exports the store's, say); the AWS variables
	// (endpoints, credentials, region) come from this environment.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "EKOLEK_") })
	cmd.Env = append(append(cmd.Env, env...), "EKOLEK_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	s, err := start("local API", "http://"+addr, cmd)
	_ = logFile.Close() // the child holds its own descriptor
	return s, err
}

// startBare runs this program's bare server (a child process, as the API
// is) answering header and body.
func startBare(header http.Header, body []byte) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "load-answer-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if err := writeAnswer(f, header, body); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "bare", addr, f.Name())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return start("bare net/http", "http://"+addr, cmd)
}

func start(name, url string, cmd *exec.Cmd) (*server, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &server{name: name, url: url, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(url + "/v1/barangays")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			s.stopped = true
			return nil, fmt.Errorf("%s exited: %v", name, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, fmt.Errorf("%s: not listening after 30 s", name)
		}
	}
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// logIn logs the resident in through the API and returns the session
// cookie ("name=value").
func logIn(base string) (string, error) {
	res, err := http.Post(base+"/v1/resident/login", "application/json",
		strings.NewReader(`{"identifier":"`+residentEmail+`","password":"`+residentPassword+`"}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: %s", res.Status)
	}
	for _, c := range res.Cookies() {
		if c.Name == "ekolek_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", errors.New("login: no session cookie")
}

// sample is one session check's answer: what the bare server will answer.
func sample(base, cookie string) (http.Header, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, base+sessionPath, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("session check: %s %s", res.Status, body)
	}
	return res.Header, body, nil
}

// result is one run against one server.
type result struct {
	requests, failed int
	elapsed          time.Duration
	rps              float64
	p50, p99, max    time.Duration
	load             string
}

func (r result) String() string {
	return fmt.Sprintf("%d requests (%d failed) in %.1f s: %.0f req/s, p50 %s, p99 %s, max %s",
		r.requests, r.failed, r.elapsed.Seconds(), r.rps, ms(r.p50), ms(r.p99), ms(r.max))
}

// attack runs workers closed-loop workers against base's session check
// for du. A request that fails or answers other than 200 fails the run.
func attack(base, cookie string, workers uint64, du time.Duration) (result, error) {
	target := vegeta.Target{Method: http.MethodGet, URL: base + sessionPath, Header: http.Header{"Cookie": {cookie}}}
	atk := vegeta.NewAttacker(vegeta.Workers(workers), vegeta.MaxWorkers(workers), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var r result
	lat := make([]time.Duration, 0, 1<<18)
	var first, last time.Time
	var failure string
	for res := range atk.Attack(vegeta.NewStaticTargeter(target), vegeta.Rate{}, du, "session") {
		r.requests++
		if res.Code != http.StatusOK || res.Error != "" {
			r.failed++
			if failure == "" {
				failure = fmt.Sprintf("%d %s %s", res.Code, res.Error, res.Body)
			}
			continue
		}
		lat = append(lat, res.Latency)
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		if end := res.Timestamp.Add(res.Latency); end.After(last) {
			last = end
		}
	}
	if r.failed > 0 {
		return r, fmt.Errorf("%d of %d requests failed, the first: %s", r.failed, r.requests, failure)
	}
	if len(lat) == 0 {
		return r, errors.New("no request completed")
	}
	slices.Sort(lat)
	r.elapsed = last.Sub(first)
	r.rps = float64(len(lat)) / r.elapsed.Seconds()
	r.p50, r.p99, r.max = quantile(lat, 0.50), quantile(lat, 0.99), lat[len(lat)-1]
	return r, nil
}

// quantile is the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted)) + 0.5)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// accessLines counts the access log lines ("msg":"request") in the API's log.
func accessLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"msg":"request"`) {
			n++
		}
	}
	return n, sc.Err()
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
