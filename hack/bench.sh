#!/usr/bin/env bash
# hack/bench.sh [FLAGS]: benchmark the API server (bench/apiserver). Builds
# bin/nodeagent and the bench, runs it with FLAGS (e.g. --quick) and prints a
# report. Everything it makes (the bench binary, the server's and etcd's
# temporary directories) lives under one temporary directory, removed on exit.
# Only 127.0.0.1 is ever contacted.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

cd "$REPO_ROOT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodeagent-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step "build bin/nodeagent"
build_nodeagent

step "build the bench"
go build -o "$tmp/apiserver-bench" ./bench/apiserver

step "run the bench"
TMPDIR=$tmp "$tmp/apiserver-bench" --bin "$REPO_ROOT/bin/nodeagent" "$@"
