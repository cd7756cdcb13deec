#!/usr/bin/env bash
# hack/bench.sh [--quick] [--only apiserver|agent] [--agent-FLAG=V...] [APISERVER FLAGS...]:
# benchmark the API server (bench/apiserver) and the agent (bench/agent).
# Builds bin/nodeagent and both benches and runs them, one after the other;
# each prints a report. --quick makes both short; flags starting with
# --agent- go to the agent bench without that prefix (e.g. --agent-exits=20),
# the rest to the API server bench. The agent bench needs root: it runs in a
# lab node (a network namespace) on nodeagent's containerd, and is skipped
# with a message otherwise. Everything they make is removed when they end;
# only 127.0.0.1 and addresses inside the lab node are contacted.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR

api_args=() agent_args=() only=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) api_args+=(--quick); agent_args+=(--quick) ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    --agent-*) agent_args+=("--${1#--agent-}") ;;
    *) api_args+=("$1") ;;
  esac
  shift
done
case $only in
  "" | apiserver | agent) ;;
  *) die "--only takes apiserver or agent, not '$only'" ;;
esac

cd "$REPO_ROOT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodeagent-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step "build bin/nodeagent"
build_nodeagent

step "build the benches"
go build -o "$tmp/apiserver-bench" ./bench/apiserver
go build -o "$tmp/agent-bench" ./bench/agent

if [ "$only" != agent ]; then
  step "run the API server bench"
  TMPDIR=$tmp "$tmp/apiserver-bench" --bin "$REPO_ROOT/bin/nodeagent" ${api_args[@]+"${api_args[@]}"}
fi

if [ "$only" != apiserver ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "agent bench skipped: it needs root (run 'sudo make bench')"
  else
    step "run the agent bench"
    TMPDIR=$tmp "$tmp/agent-bench" --bin "$REPO_ROOT/bin/nodeagent" ${agent_args[@]+"${agent_args[@]}"}
  fi
fi
