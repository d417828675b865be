# keyhold developer commands. `make help` lists them.
STATICCHECK_MODULE  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN ?= $(shell go env GOPATH)/bin

.PHONY: help build run test lint fmt fuzz bench load load-pg clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## Build bin/keyhold
	go build -o bin/keyhold ./cmd/keyhold

run: build ## Start keyhold on its embedded store (./keyhold-data)
	./bin/keyhold serve

test: ## Run the whole test suite with the race detector (the README's test command)
	go test -race ./...
	cd bench && go test -race ./...

lint: ## gofmt, go vet and the pinned staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	cd bench && go vet ./...
	@test -x $(GOBIN)/staticcheck || go install $(STATICCHECK_MODULE)
	$(GOBIN)/staticcheck ./...

fmt: ## Format the code
	gofmt -w $$(git ls-files '*.go')

fuzz: ## Run every fuzz target for FUZZTIME each (default 30s)
	@for t in "FuzzParse ./internal/grn" "FuzzCoversText ./internal/grn" "FuzzClientAddr ./internal/ratelimit" "FuzzCheckBaseURL ./internal/app" "FuzzCompile ./internal/odata" "FuzzParse ./internal/odata" \
	          "FuzzTokenEndpoint ./internal/token" "FuzzVerify ./internal/token" "FuzzFormParse ./internal/token" \
	          "FuzzDecodeCreateCredential ./internal/httpapi" "FuzzDecodeDecisionRequest ./internal/httpapi" "FuzzNoLoneSurrogates ./internal/httpapi" \
	          "FuzzDecide ./internal/rbac"; do \
	  set -- $$t; echo "== $$1 $$2"; go test -run='^$$' -fuzz="^$$1$$" -fuzztime=$${FUZZTIME:-30s} $$2 || exit 1; done

bench: ## In-process benchmarks (token issuance, verification, decisions, GRN)
	go test -run='^$$' -bench=. -benchmem ./internal/token/ ./internal/rbac/ ./internal/credential/ ./internal/grn/ ./internal/odata/

load: ## Whole-server load harness (needs wrk: apt-get install wrk)
	bash bench/run.sh

load-pg: ## Two nodes on PostgreSQL (needs wrk, psql and a local PostgreSQL)
	bash bench/pg2.sh

clean: ## Remove build output
	rm -rf bin
