#!/usr/bin/env bash
# hack/compat.sh: runs the compatibility tests, which put nodeagent beside
# real Kubernetes components built from the Go module proxy (hack/lib.sh
# build_kube, once, into /var/cache/nodeagent/anchors: about 10 minutes the
# first time, seconds after). Today: a real kube-proxy and a real
# kube-controller-manager against the bundled API server (e2e TestCompat*,
# build tags e2e and compat). Needs root and
# what `make test` installs; not part of `make test`, for the build time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

cd "$REPO_ROOT"
[ "$(id -u)" -eq 0 ] || die "the compatibility tests need root (lab network namespaces, nftables): run 'sudo make compat'"
bash hack/install-deps.sh

step "build bin/nodeagent"
build_nodeagent

step "build kube-proxy and kube-controller-manager $KUBE_VERSION (once)"
kube_proxy=$(build_kube kube-proxy)
kube_controller_manager=$(build_kube kube-controller-manager)

step "run the compatibility tests"
NODEAGENT_KUBE_PROXY=$kube_proxy NODEAGENT_KUBE_CONTROLLER_MANAGER=$kube_controller_manager CGO_ENABLED=0 go test -tags e2e,compat -count=1 -timeout 20m -run 'TestCompat' -v ./e2e/
