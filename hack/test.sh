#!/usr/bin/env bash
# hack/test.sh all|unit|e2e: runs the unit tests and/or the root e2e tests.
# As root it first installs the dependencies and test images (idempotent).
# Outside CI, e2e tests skip with a reason when not root or a dependency is
# missing; with CI=true a missing dependency fails the run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

what=${1:-all}
cd "$REPO_ROOT"

gofmt_check() {
  step "gofmt"
  local bad
  bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))
  [ -z "$bad" ] || die "gofmt would change: $bad"
}

# import_boundaries: the node side (agent, runtime, GC, PLEG, CNI, proxy,
# volumes) shares API validation, defaults and PKI through api/ and certs/,
# never by importing the API server.
import_boundaries() {
  step "import boundaries"
  local bad
  bad=$(go list -deps ./agent/... ./cri/... ./gc/... ./pleg/... ./cni/... ./proxy/... ./volumes/... ./noderoutes/... ./podmasq/... \
    | grep -E '^github.com/nodeagent/nodeagent/apiserver(/|$)' || true)
  [ -z "$bad" ] || die "the node side imports the API server: $bad (move what it needs to api/ or certs/)"
  # Every pod runs a pause process and every container a logger: their
  # binaries stay small (the standard library without net (net/url for the
  # logger's argument is pure parsing), x/sys/unix and
  # their own packages), or each pod pays for what they pull in.
  bad=$(go list -deps ./cmd/nodeagent-pause ./cmd/nodeagent-logger \
    | grep -E '\.|^net(/|$)' \
    | grep -vxE 'golang.org/x/sys/unix|net/url|net/netip|github.com/nodeagent/nodeagent/(cmd/nodeagent-(pause|logger)|cri/(pause|crilogger|crilog))' || true)
  [ -z "$bad" ] || die "the per-pod helpers import more than they need: $bad"
}

unit() {
  gofmt_check
  import_boundaries
  step "go vet"
  go vet ./...
  go vet -tags e2e ./e2e/...
  go vet -tags 'e2e soak' ./e2e/...
  step "unit tests"
  # Static test binaries: the containerd runtime tests bind-mount themselves
  # into sandboxes as the pause process.
  CGO_ENABLED=0 go test -count=1 ./...
  if [ "$(id -u)" -eq 0 ]; then
    step "vm.sh down --all and --cleanup stop this checkout's VMs only (fake VMs, none boots)"
    bash hack/vm/vm_test.sh
  fi
  # Each fuzz target briefly (make fuzz runs them longer).
  FUZZTIME=${TEST_FUZZTIME:-3s} bash hack/fuzz.sh
}

# setup installs what the root tests need (containerd, the registry, the
# test image, bin/nodeagent); unit tests of the runtime use them too.
setup() {
  if [ "$(id -u)" -eq 0 ]; then
    bash hack/install-deps.sh
    bash hack/images.sh
    build_nodeagent
  elif [ "${CI:-}" = true ]; then
    die "CI must run as root: the e2e tests need network namespaces and containerd"
  else
    echo "note: not root, so the tests that need root will skip (run 'sudo make test')"
  fi
}

e2e() {
  step "e2e tests"
  CGO_ENABLED=0 go test -tags e2e -count=1 -p 1 -timeout 20m -v ./e2e/...
}

# soak: a node with a crash-looping pod and a log spammer for
# SOAK_DURATION (default 1h), its disk footprint weighed every minute.
soak() {
  step "soak for ${SOAK_DURATION:-1h}"
  CGO_ENABLED=0 go test -tags 'e2e soak' -count=1 -timeout 0 -v -run TestSoakBoundedFootprint ./e2e/
}

case $what in
  unit) setup; unit ;;
  e2e) setup; e2e ;;
  all) setup; unit; e2e ;;
  soak) setup; soak ;;
  *) die "usage: hack/test.sh all|unit|e2e|soak" ;;
esac
