# Every target is one line; the work is in hack/ and go.
.PHONY: build deps images test test-unit test-e2e fuzz soak demo lab clean-host fmt vet bench compat vm vm-smoke vm-test vm-compat vm-cluster

build:
	CGO_ENABLED=0 go build -o bin/ ./cmd/...

deps:
	bash hack/install-deps.sh

images:
	bash hack/images.sh

test:
	bash hack/test.sh all

test-unit:
	bash hack/test.sh unit

test-e2e:
	bash hack/test.sh e2e

fuzz:
	FUZZTIME=$(FUZZTIME) bash hack/fuzz.sh

soak:
	SOAK_DURATION=$(SOAK_DURATION) bash hack/test.sh soak

demo:
	bash hack/demo.sh

clean-host:
	bash hack/clean-host.sh

bench:
	bash hack/bench.sh

compat:
	bash hack/compat.sh

fmt:
	gofmt -l -w $$(git ls-files '*.go')

vet:
	go vet ./... && go vet -tags e2e ./e2e/...

vm:
	bash hack/vm/image.sh

vm-smoke:
	bash hack/vm/smoke.sh

vm-test:
	bash hack/vm/test.sh

vm-compat:
	VM_TEST_COMPAT=1 VM_TEST_RUN='^TestCompat(Real|Agent)' bash hack/vm/test.sh

vm-cluster:
	bash hack/vm/cluster.sh
