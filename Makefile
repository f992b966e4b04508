# scimd — run "make help" for the targets.
GO ?= go

.PHONY: help run build test check fuzz bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## run scimd on ./data/scimd.db with a demo tenant and key (printed)
	@mkdir -p data
	$(GO) run ./cmd/scimd serve --dev --database sqlite:data/scimd.db

build: ## build a static ./bin/scimd
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o bin/scimd ./cmd/scimd

check: ## gofmt, go vet and go mod tidy must be clean
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff

test: check ## everything: formatting, vet, all tests with the race detector, on SQLite and a throwaway PostgreSQL
	bash scripts/with-postgres.sh $(GO) test -race -count=1 ./...

fuzz: ## run each fuzz target for 30s
	$(GO) test -run='^$$' -fuzz=FuzzParse$$ -fuzztime=30s -fuzzminimizetime=5s ./internal/scim/filter/
	$(GO) test -run='^$$' -fuzz=FuzzParsePath -fuzztime=30s -fuzzminimizetime=5s ./internal/scim/filter/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeApply -fuzztime=30s -fuzzminimizetime=5s ./internal/scim/patch/
	$(GO) test -run='^$$' -fuzz=FuzzCreateUser -fuzztime=30s -fuzzminimizetime=5s ./internal/server/
	$(GO) test -run='^$$' -fuzz=FuzzBulk -fuzztime=30s -fuzzminimizetime=5s ./internal/server/
	$(GO) test -run='^$$' -fuzz=FuzzCheckJSON -fuzztime=30s -fuzzminimizetime=5s ./internal/server/
	$(GO) test -run='^$$' -fuzz=FuzzEventsParams -fuzztime=30s -fuzzminimizetime=5s ./internal/hostapi/
	$(GO) test -run='^$$' -fuzz=FuzzUsersParams -fuzztime=30s -fuzzminimizetime=5s ./internal/hostapi/
	$(GO) test -run='^$$' -fuzz=FuzzAppKeyID -fuzztime=30s -fuzzminimizetime=5s ./internal/auth/
	$(GO) test -run='^$$' -fuzz=FuzzParsePollRequest -fuzztime=30s -fuzzminimizetime=5s ./internal/secevent/
	$(GO) test -run='^$$' -fuzz=FuzzCheckURL -fuzztime=30s -fuzzminimizetime=5s ./internal/webhook/
	$(GO) test -run='^$$' -fuzz=FuzzParseTypes -fuzztime=30s -fuzzminimizetime=5s ./internal/webhook/
	$(GO) test -run='^$$' -fuzz=FuzzNextPath -fuzztime=30s -fuzzminimizetime=5s ./internal/console/

bench: ## run the benchmarks (PostgreSQL ones on a throwaway server)
	bash scripts/with-postgres.sh $(GO) test -run='^$$' -bench=. -benchmem ./...
