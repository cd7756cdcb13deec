#!/usr/bin/env bash
# Builds the test image from this repo's source (no network), imports it into
# nodeagent's containerd (namespace "nodeagent") and pushes it to the local
# registry, so that tests can use it directly or pull it for real.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

need_root
cd "$REPO_ROOT"
mkdir -p bin/images

step "build the static testserver"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/testserver ./images/testserver

step "assemble $TEST_IMAGE"
go run ./images/build --server bin/testserver --busybox /bin/busybox \
  --ref "$TEST_IMAGE" --out bin/images/testserver.tar

step "import into containerd (namespace $CONTAINERD_NAMESPACE)"
ctr_na version >/dev/null 2>&1 || die "containerd is not answering on $CONTAINERD_ADDRESS: run 'make deps' first"
ctr_na -n "$CONTAINERD_NAMESPACE" images import --no-unpack bin/images/testserver.tar >/dev/null
ctr_na -n "$CONTAINERD_NAMESPACE" images ls -q | grep -qx "$TEST_IMAGE"

step "push to the registry at $REGISTRY_ADDR"
curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null || die "no registry on $REGISTRY_ADDR: run 'make deps' first"
go run ./images/build --server bin/testserver --busybox /bin/busybox --ref "$TEST_IMAGE" --push
