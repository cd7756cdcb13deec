#!/usr/bin/env bash
# supervise NAME -- COMMAND...: run COMMAND, restart it when it exits (with a
# back-off from 1 s doubling to 30 s, reset after a minute of running), and
# stop it when this supervisor gets SIGTERM or SIGINT.
set -euo pipefail

name=$1
shift
[ "${1:-}" = "--" ] && shift
child=""

stop() {
  echo "supervise[$name]: stopping"
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" || true
  fi
  exit 0
}
trap stop TERM INT

backoff=1
while :; do
  started=$SECONDS
  echo "supervise[$name]: starting: $*"
  "$@" &
  child=$!
  rc=0
  wait "$child" || rc=$?
  child=""
  if [ $((SECONDS - started)) -ge 60 ]; then backoff=1; fi
  echo "supervise[$name]: exited with status $rc; restarting in ${backoff}s"
  sleep "$backoff" &
  wait $! || true
  backoff=$((backoff * 2 > 30 ? 30 : backoff * 2))
done
