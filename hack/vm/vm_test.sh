#!/usr/bin/env bash
# hack/vm/vm_test.sh: checks that vm.sh down --all and --cleanup stop only
# the VMs this checkout started, on fake VMs: state directories in a temp
# VM_STATE whose "qemu" is a renamed sleep. No VM boots, no namespace or
# link is made (the fake VMs' labs do not exist), nothing real is touched.
# As root (vm.sh wants it).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
need_root

tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" != qemu-system-fak ] || kill -KILL "$p" || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
export VM_STATE=$tmp/state
me=$(cd "$REPO_ROOT" && pwd -P)
cp "$(command -v sleep)" "$tmp/qemu-system-fake"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# fake NAME CHECKOUT: a VM in lab vmtest-$$-NAME started by CHECKOUT ("":
# an older vm.sh's, which recorded none), its qemu a sleep; prints the pid.
fake() {
  local dir=$VM_STATE/$1
  mkdir -p "$dir"
  echo "vmtest-$$-$1" >"$dir/lab"
  [ -z "$2" ] || echo "$2" >"$dir/checkout"
  # Not this script's child (as qemu -daemonize): init reaps it once
  # killed, so that kill -0 tells whether it runs.
  (setsid "$tmp/qemu-system-fake" 600 </dev/null >/dev/null 2>&1 & echo $! >"$dir/qemu.pid")
  pids+=("$(cat "$dir/qemu.pid")")
}
running() { kill -0 "$1" 2>/dev/null; }
stopped() { wait_for 10 "qemu $1 to exit" bash -c "! kill -0 $1"; }
vm() { bash "$REPO_ROOT/hack/vm/vm.sh" "$@"; }

fake mine "$me"
fake other /work/elsewhere
fake legacy ""
mine=${pids[0]} other=${pids[1]} legacy=${pids[2]}

out=$(vm list)
for want in "mine	$me" "other	/work/elsewhere" "legacy	(unknown checkout)"; do
  grep -qxF "$want" <<<"$out" || fail "vm.sh list: no line \"$want\" in:"$'\n'"$out"
done

out=$(vm down --all)
[ ! -e "$VM_STATE/mine" ] || fail "down --all left this checkout's VM's state"
stopped "$mine" || fail "down --all left this checkout's VM's qemu running"
for n in other legacy; do [ -d "$VM_STATE/$n" ] || fail "down --all removed VM $n's state: not this checkout's"; done
running "$other" && running "$legacy" || fail "down --all stopped another checkout's qemu"
grep -qF "left: VM other, started by /work/elsewhere" <<<"$out" || fail "down --all did not say it left VM other: $out"
grep -qF "left: VM legacy, started by an unknown checkout" <<<"$out" || fail "down --all did not say it left VM legacy: $out"

fake again "$me"
again=${pids[3]}
vm --cleanup >/dev/null
[ ! -e "$VM_STATE/again" ] || fail "--cleanup left this checkout's VM"
stopped "$again" || fail "--cleanup left this checkout's VM's qemu running"
for n in other legacy; do [ -d "$VM_STATE/$n" ] || fail "--cleanup removed VM $n's state"; done

vm down other
[ ! -e "$VM_STATE/other" ] || fail "down other (by name) left it"
stopped "$other" || fail "down other left its qemu running"
running "$legacy" || fail "down other stopped VM legacy's qemu"

if [ "$failures" -ne 0 ]; then
  echo "vm_test.sh: $failures check(s) failed" >&2
  exit 1
fi
echo "vm_test.sh: ok (down --all, --cleanup and down NAME on fake VMs of three checkouts)"
