#!/usr/bin/env bash
# hack/compat.sh: runs the compatibility tests, which put nodeagent beside
# real Kubernetes components built from the Go module proxy (hack/lib.sh
# build_kube, once, into /var/cache/nodeagent/anchors: about 10 minutes the
# first time, seconds after). Today: a real kube-proxy and a real
# kube-controller-manager against the bundled API server, and the agent
# and its proxy against a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler), joined with a node certificate
# or by TLS bootstrapping; and third-party operators against the bundled
# server: kube-state-metrics, sealed-secrets' controller and
# prometheus-operator (hack/lib.sh
# build_go_command, from the proxy too, with the manifests they ship read
# from the module cache) (e2e TestCompat*, build tags e2e and compat). Needs root and
# what `make test` installs; not part of `make test`, for the build time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

cd "$REPO_ROOT"
[ "$(id -u)" -eq 0 ] || die "the compatibility tests need root (lab network namespaces, nftables): run 'sudo make compat'"
bash hack/install-deps.sh

step "build bin/nodeagent"
build_nodeagent

step "build kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy $KUBE_VERSION and etcd $ETCD_VERSION (once)"
kube_apiserver=$(build_kube kube-apiserver)
kube_controller_manager=$(build_kube kube-controller-manager)
kube_scheduler=$(build_kube kube-scheduler)
kube_proxy=$(build_kube kube-proxy)
etcd=$(build_etcd)

step "build kube-state-metrics $KUBE_STATE_METRICS_VERSION, sealed-secrets $SEALED_SECRETS_VERSION and prometheus-operator $PROMETHEUS_OPERATOR_VERSION (once)"
kube_state_metrics=$(build_kube_state_metrics)
sealed_secrets=$(build_sealed_secrets_controller)
kubeseal=$(build_kubeseal)
prometheus_operator=$(build_prometheus_operator)
kube_state_metrics_src=$(go_module_dir k8s.io/kube-state-metrics/v2 "$KUBE_STATE_METRICS_VERSION")
sealed_secrets_src=$(go_module_dir github.com/bitnami-labs/sealed-secrets "$SEALED_SECRETS_VERSION")
prometheus_operator_src=$(go_module_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")

step "run the compatibility tests"
NODEAGENT_KUBE_PROXY=$kube_proxy NODEAGENT_KUBE_CONTROLLER_MANAGER=$kube_controller_manager \
  NODEAGENT_KUBE_APISERVER=$kube_apiserver NODEAGENT_KUBE_SCHEDULER=$kube_scheduler NODEAGENT_ETCD=$etcd \
  NODEAGENT_KUBE_STATE_METRICS=$kube_state_metrics NODEAGENT_KUBE_STATE_METRICS_SRC=$kube_state_metrics_src \
  NODEAGENT_SEALED_SECRETS=$sealed_secrets NODEAGENT_KUBESEAL=$kubeseal NODEAGENT_SEALED_SECRETS_SRC=$sealed_secrets_src \
  NODEAGENT_PROMETHEUS_OPERATOR=$prometheus_operator NODEAGENT_PROMETHEUS_OPERATOR_SRC=$prometheus_operator_src \
  CGO_ENABLED=0 go test -tags e2e,compat -count=1 -timeout 20m -run 'TestCompat' -v ./e2e/
