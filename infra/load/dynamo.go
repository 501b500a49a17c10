package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/store/dynamo"
)

// The DynamoDB scenario (`load dynamodb`, `make load-dynamodb`): the local
// API on a fresh table in DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB), its
// calls counted on the way (calls.go), loaded by workers that mix logins
// (right and wrong passwords, unknown emails), session checks, logouts,
// reset requests (known and unknown emails) and registrations (mix.go);
// then the table, the outbox and the API's log are held to what the
// answers told the workers (verify.go). It runs in two phases:
//
//  1. calls: one worker sends each kind a few times, one request at a
//     time, so the DynamoDB calls counted between a request and its
//     answer are that request's own;
//  2. mixed: the workers, concurrently, for the duration: throughput,
//     latency per kind, errors, and the calls of the whole phase against
//     what the first phase's figures predict.

// dynamoOptions are the scenario's settings.
type dynamoOptions struct {
	api, dir    string
	duration    time.Duration
	workers     int
	accounts    int // per worker
	callsEach   int
	seed        uint64
	direct      bool // no counting proxy: the API talks to DynamoDB Local itself
	keep        bool // keep the table afterwards
	cpuProfile  string
	loadAverage func() string
	commandLine string
	startedAt   time.Time
}

// dynamoMain is `load dynamodb ARGS`.
func dynamoMain(args []string) error {
	var o dynamoOptions
	fs := flag.NewFlagSet("load dynamodb", flag.ExitOnError)
	fs.StringVar(&o.api, "api", "bin/load/localapi", "the local API binary (go build ./infra/localapi)")
	fs.StringVar(&o.dir, "dir", "bin/load/dynamodb", "where the API's data directory (its keys) and log go")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "the mixed phase")
	fs.IntVar(&o.workers, "workers", 16, "concurrent workers in the mixed phase (closed loop)")
	fs.IntVar(&o.accounts, "accounts", 48, "seeded residents per worker (each has one reset request at most)")
	fs.IntVar(&o.callsEach, "calls", 10, "requests of each kind in the calls phase")
	fs.Uint64Var(&o.seed, "seed", 1, "the workers' random choices")
	fs.BoolVar(&o.direct, "direct", false, "the API talks to DynamoDB Local without the counting proxy: no calls are counted")
	fs.BoolVar(&o.keep, "keep", false, "keep the table (its name is printed)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "the local API writes a CPU profile of its whole run to this file")
	_ = fs.Parse(args)
	o.commandLine = strings.Join(os.Args, " ")
	return runDynamo(context.Background(), o, os.Stdout)
}

// dynamoRun is what a run gathered, for the report and the checks.
type dynamoRun struct {
	o                     dynamoOptions
	client                *dynamodb.Client
	table, logPath        string
	residents             []*resident
	calls                 []outcome // the calls phase
	mixed                 []outcome // the mixed phase
	workers               []*worker // the calls phase's worker first
	elapsed               time.Duration
	loadBefore, loadAfter string
	mixedCalls            calls  // the requests' calls in the mixed phase
	senderCalls           calls  // the outbox sender's, the whole run
	proxyFailures         int64  // calls the counting proxy could not pass on
	proxyFailure          string // the first one's error
	abandoned             int64  // calls the API cancelled itself
	deliveryWait          time.Duration
	messages              int    // in the outbox after the run
	cpu                   string // where the CPU went in the mixed phase
	answers               string // DynamoDB Local's answers, the whole run
	checks                []check
	events                []typeCount
	log                   logSummary
	exhausted             int
}

func runDynamo(ctx context.Context, o dynamoOptions, out io.Writer) error {
	r, err := loadDynamo(ctx, o)
	if r != nil && !o.keep {
		defer r.dropTable()
	}
	if err != nil {
		return err
	}
	if err := r.verify(ctx); err != nil {
		return err
	}
	r.report(out)
	return r.failure()
}

// loadDynamo runs both phases on a new table and returns what they
// gathered, for verify. The table is left for the caller to drop (a run
// that fails to start returns it too, once it exists).
func loadDynamo(ctx context.Context, o dynamoOptions) (*dynamoRun, error) {
	if o.loadAverage == nil {
		o.loadAverage = loadAverage
	}
	o.startedAt = time.Now()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		return nil, errors.New("AWS_ENDPOINT_URL_DYNAMODB is not set: run under localstack/emulators.sh (make load-dynamodb does)")
	}
	if o.accounts < o.callsEach+1 || o.accounts < 2 {
		return nil, fmt.Errorf("-accounts %d: needs at least 2 and one more than -calls (each known-email reset takes a resident of its own)", o.accounts)
	}
	cfg, err := awsenv.Load()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	r := &dynamoRun{o: o, client: dynamodb.NewFromConfig(awsenv.For(cfg, "DYNAMODB")),
		table: fmt.Sprintf("ekolek-load-%d", o.startedAt.UnixNano()), logPath: filepath.Join(dir, "localapi.log")}
	if err := dynamo.CreateTable(ctx, r.client, r.table); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	return r, r.load(ctx, endpoint, filepath.Join(dir, "data"))
}

// apiArgs are the local API's flags: a profile, if asked for.
func (r *dynamoRun) apiArgs() []string {
	if r.o.cpuProfile == "" {
		return nil
	}
	p, err := filepath.Abs(r.o.cpuProfile)
	if err != nil {
		p = r.o.cpuProfile
	}
	return []string{"-cpuprofile", p}
}

// dropTable deletes the run's table.
func (r *dynamoRun) dropTable() {
	_, _ = r.client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(r.table)})
}

// load seeds the residents, starts the API (behind the counting proxy
// unless -direct) with its data directory in data, and runs both phases.
func (r *dynamoRun) load(ctx context.Context, endpoint, data string) error {
	o := r.o
	st := dynamo.New(r.client, r.table)
	var err error
	if r.residents, err = seed(ctx, st, (o.workers+1)*o.accounts); err != nil {
		return fmt.Errorf("seeding residents: %w", err)
	}
	apiEndpoint := endpoint
	var counter *callCounter
	if !o.direct {
		if counter, err = startCallCounter(endpoint); err != nil {
			return err
		}
		defer counter.close()
		apiEndpoint = counter.url
	}
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	api, err := startAPI(o.api, r.logPath, []string{
		"EKOLEK_ENV=local", "EKOLEK_STORE=dynamodb", "EKOLEK_TABLE=" + r.table, "EKOLEK_NOTIFIER=outbox",
		"EKOLEK_DATA_DIR=" + data, "AWS_ENDPOINT_URL_DYNAMODB=" + apiEndpoint,
		// The day's SMS cap guards a budget, and a long run registers
		// more than its default (500): it is not what is measured here.
		"EKOLEK_SMS_DAILY_CAP=1000000",
	}, r.apiArgs())
	if err != nil {
		return err
	}
	defer api.stop()

	addrs := &addresses{}
	for i := range o.workers + 1 {
		r.workers = append(r.workers, newWorker(api.url, o.seed+uint64(i), r.residents[i*o.accounts:(i+1)*o.accounts], addrs, 0.5))
	}
	defer func() {
		for _, w := range r.workers {
			w.close()
		}
	}()

	// Phase 1: each kind alone, one request at a time.
	cw := r.workers[0]
	cw.victimShare = 1 // its wrong passwords lock the victim, then meet the lock
	cw.counter = counter
	for _, k := range []kind{kindLogin, kindSession, kindLogout, kindWrongPassword, kindUnknownLogin, kindReset, kindUnknownReset, kindRegister} {
		for range o.callsEach {
			cw.do(k)
		}
	}
	r.calls = cw.outcomes

	// Phase 2: the workers together.
	var before calls
	if counter != nil {
		before = counter.requestCalls()
	}
	r.loadBefore = o.loadAverage()
	dynamoPID := dynamoDBLocalPID()
	cpuBefore, phaseStart := sampleCPU(api.cmd.Process.Pid, dynamoPID), time.Now()
	deadline := phaseStart.Add(o.duration)
	var wg sync.WaitGroup
	for _, w := range r.workers[1:] {
		wg.Go(func() { w.runMixed(deadline) })
	}
	wg.Wait()
	cpuAfter, phaseWall := sampleCPU(api.cmd.Process.Pid, dynamoPID), time.Since(phaseStart)
	r.loadAfter = o.loadAverage()
	if counter != nil {
		r.mixedCalls = counter.requestCalls().minus(before)
	}
	for _, w := range r.workers[1:] {
		r.mixed = append(r.mixed, w.outcomes...)
		r.exhausted += w.exhausted
	}
	r.elapsed = span(r.mixed)
	r.cpu = cpuUse(cpuBefore, cpuAfter, phaseWall.Seconds(), len(r.mixed))

	// Every message the requests queued is delivered by the API's own
	// sender before the table is read.
	waitStart := time.Now()
	if err := waitDelivered(ctx, st, o.startedAt); err != nil {
		return err
	}
	r.deliveryWait = time.Since(waitStart)
	if err := api.stop(); err != nil {
		return fmt.Errorf("local API: %w", err)
	}
	if counter != nil {
		_, r.senderCalls = counter.counts()
		r.proxyFailures, r.abandoned = counter.failed.Load(), counter.abandoned.Load()
		r.proxyFailure, _ = counter.firstFailure.Load().(string)
		r.answers = counter.answerCounts()
	}
	return nil
}

// seed stores n approved residents with verified emails, their password
// hashed once at the production parameters (the API verifies with those,
// so no login rehashes), and returns them.
func seed(ctx context.Context, st *dynamo.Store, n int) ([]*resident, error) {
	hash, err := password.NewHasher(password.DefaultParams).Hash(residentPassword)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rs := make([]*resident, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				a := account.Account{
					Realm: account.Resident, ID: account.NewID(), Status: account.StatusApproved,
					Email: fmt.Sprintf("resident-%d@example.com", i), EmailVerified: true, Language: "en",
					FirstName: "Load", LastName: "Resident", Phone: fmt.Sprintf("+63917%07d", i), Barangay: "Landayan",
					PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
				}
				errs[i] = st.CreateAccount(ctx, a)
				rs[i] = &resident{id: a.ID, email: a.Email}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return rs, errors.Join(errs...)
}

// waitDelivered waits until the outbox holds no message still to be
// delivered (the local API's sender is woken by each message and sweeps
// every few seconds), at most a minute.
func waitDelivered(ctx context.Context, st *dynamo.Store, since time.Time) error {
	deadline := time.Now().Add(time.Minute)
	for {
		left, err := st.ListUnfinished(ctx, since.Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d messages still undelivered a minute after the load", len(left))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// span is from the first request's start to the last answer.
func span(outs []outcome) time.Duration {
	var first, last time.Time
	for _, o := range outs {
		if first.IsZero() || o.start.Before(first) {
			first = o.start
		}
		if end := o.start.Add(o.latency); end.After(last) {
			last = end
		}
	}
	return last.Sub(first)
}
