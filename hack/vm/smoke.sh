#!/usr/bin/env bash
# make vm-smoke: the one-VM smoke test. Boots a fresh Debian VM (make vm's
# cached base), installs nodeagent in it as the README says (kit: see
# hack/vm/guest-install.sh), then checks: the unit is active once the node is
# Ready, `kubectl get nodes` says Ready, a pod runs and its Service answers
# on the ClusterIP (from the VM itself), the VM uses cgroup v2 (the pod's
# memory limit read back from memory.max), nodeagent's log is in journald;
# then `systemctl restart nodeagent` with the proxy switched to ipvs (the
# config file) restarts no container and the Service answers through IPVS;
# then a reboot of the VM brings the node and the pod back (restartPolicy
# Always, a new container) and the Service answers again (VM_SMOKE_REBOOT=0
# skips the reboot). Every wait has a deadline; the VM and
# its network namespace are removed at the end, also on failure
# (VM_KEEP=1 keeps them for a look: hack/vm/vm.sh ssh smoke, then down smoke).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root
cd "$REPO_ROOT"

name=${VM_NAME:-smoke}
started=$SECONDS
kitdir=

finish() {
  local rc=$?
  [ -z "$kitdir" ] || rm -rf "$kitdir"
  if [ "$rc" -ne 0 ] && vm_ssh "$name" true 2>/dev/null; then
    echo "---- journalctl -u nodeagent (last 60 lines) ----" >&2
    vm_ssh "$name" journalctl -u nodeagent --no-pager -n 60 >&2 || true
  elif [ "$rc" -ne 0 ]; then
    echo "---- VM $name does not answer ssh ----" >&2
    vm_diag "$name" >&2 || true
  fi
  if [ "$rc" -ne 0 ]; then
    vm_console_report "$name" >&2 || true
  fi
  if [ "${VM_KEEP:-}" = 1 ]; then
    echo "VM_KEEP=1: VM $name stays (hack/vm/vm.sh down $name removes it)"
  else
    bash "$REPO_ROOT/hack/vm/vm.sh" down "$name" || true
  fi
  exit "$rc"
}

# The checks, run in the VM.
# (run after SERVE_CHECK, below)
read -r -d '' CHECKS <<'SH' || true
echo "==> [vm] systemctl is-active nodeagent: $(systemctl is-active nodeagent)"
systemctl is-active --quiet nodeagent
kubectl wait --for=condition=Ready node --all --timeout=60s >/dev/null
kubectl get nodes -o wide
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: smoke, namespace: default, labels: {app: smoke}}
spec:
  containers:
  - name: web
    image: 127.0.0.1:5000/nodeagent/testserver:v1
    imagePullPolicy: IfNotPresent
    resources: {limits: {memory: 64Mi, cpu: 200m}}
YAML
kubectl wait --for=condition=Ready pod/smoke --timeout=120s >/dev/null
kubectl get pod smoke -o wide
kubectl expose pod smoke --name smoke --port 80 --target-port 8080 >/dev/null
ip=$(kubectl get service smoke -o jsonpath='{.spec.clusterIP}')
serve_check "$ip"
echo "==> [vm] service smoke at $ip:80 answers from pod smoke (proxy mode $(awk '/proxy-mode/ {print $2; exit}' /etc/nodeagent/config.yaml))"
fs=$(stat -fc %T /sys/fs/cgroup)
echo "==> [vm] /sys/fs/cgroup is $fs"
[ "$fs" = cgroup2fs ]
pid=$(pgrep -f '^/usr/local/bin/testserver serve' | head -1)
cg=$(cat "/proc/$pid/cgroup")
echo "==> [vm] the pod's process is in cgroup $cg; memory.max $(cat "/sys/fs/cgroup${cg#0::}/memory.max")"
[ "$(cat "/sys/fs/cgroup${cg#0::}/memory.max")" = 67108864 ]
n=$(journalctl -u nodeagent --no-pager -o cat | wc -l)
echo "==> [vm] journald holds $n lines of nodeagent's log"
[ "$n" -gt 0 ]
# read whole first: grep -m1 on the pipe ends journalctl with SIGPIPE (141)
log=$(journalctl -u nodeagent --no-pager -o cat)
grep -m1 'msg=ready component=systemd part=proxy' <<<"$log"
echo "==> [vm] systemd's status line: $(systemctl show -P StatusText nodeagent)"
systemctl show -P StatusText nodeagent | grep -q '^ready: api, node, proxy'

SH

# serve_check IP: the Service at IP:80 answers from pod smoke within 60 s
# (shared by every step's checks, which start with it).
read -r -d '' SERVE_CHECK <<'SH' || true
set -euo pipefail
export KUBECONFIG=/var/lib/nodeagent/server/admin.kubeconfig
serve_check() {
  local deadline=$((SECONDS + 60)) out
  until out=$(curl -fsS --max-time 2 "http://$1/hostname" 2>/dev/null); do
    [ "$SECONDS" -lt "$deadline" ] || { echo "service smoke ($1:80) did not answer within 60 s" >&2; return 1; }
    sleep 0.5
  done
  [ "$out" = smoke ]
}
container() { kubectl get pod smoke -o jsonpath='{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}'; }
SH

# systemctl restart with the proxy switched to ipvs: no container restarts.
read -r -d '' RESTART <<'SH' || true
before=$(container)
nft list table ip nodeagent >/dev/null # the nftables mode's table, before the switch
sed -i '0,/^  proxy-mode: .*/s//  proxy-mode: ipvs/' /etc/nodeagent/config.yaml
grep -m1 'proxy-mode' /etc/nodeagent/config.yaml | grep -q ipvs
systemctl restart nodeagent # Type=notify: returns once the node is Ready again
systemctl is-active --quiet nodeagent
kubectl wait --for=condition=Ready pod/smoke --timeout=60s >/dev/null
after=$(container)
echo "==> [vm] after systemctl restart: container $after (before: $before)"
[ "$after" = "$before" ]
ip=$(kubectl get service smoke -o jsonpath='{.spec.clusterIP}')
serve_check "$ip"
ipvsadm -Ln -t "$ip:80" | grep -q -- '->'
echo "==> [vm] proxy mode ipvs: $(ipvsadm -Ln -t "$ip:80" | grep -c -- '-> [0-9]') real server(s) behind $ip:80, and it answers"
if nft list table ip nodeagent >/dev/null 2>&1; then
  echo "the nftables mode's table ip nodeagent is still there after the switch to ipvs" >&2
  exit 1
fi
echo "==> [vm] the nftables mode's table is gone; $(iptables-save -t nat | grep -c -- '--match-set NODEAGENT-IPVS-LOOP-BACK') hairpin rule on the LOOP-BACK ipset"
SH

# After the reboot: the node and the pod are back, the Service answers.
read -r -d '' AFTER_REBOOT <<'SH' || true
timeout 180 bash -c 'until systemctl is-active --quiet nodeagent; do sleep 0.5; done' ||
  { echo "nodeagent not active 180 s after the boot: $(systemctl is-active nodeagent)" >&2; exit 1; }
kubectl wait --for=condition=Ready node --all --timeout=120s >/dev/null
# The status read first may still be the one from before the reboot:
# wait for the container the agent started after it.
deadline=$((SECONDS + 120))
until now=$(container) && [ "${now%% *}" != "${before%% *}" ]; do
  [ "$SECONDS" -lt "$deadline" ] || { echo "pod smoke still reports container $now 120 s after the reboot" >&2; exit 1; }
  sleep 0.5
done
kubectl wait --for=condition=Ready pod/smoke --timeout=120s >/dev/null
echo "==> [vm] after the reboot: pod smoke Ready with a new container $(container) (before: $before)"
ip=$(kubectl get service smoke -o jsonpath='{.spec.clusterIP}')
serve_check "$ip"
echo "==> [vm] service smoke at $ip:80 answers again (ipvs)"
SH

trap finish EXIT
step "base image (make vm)"
t=$SECONDS; bash hack/vm/image.sh >/dev/null; echo "    $((SECONDS - t)) s"
step "bin/nodeagent and the test image"
build_nodeagent
test_image
step "boot VM $name with the install kit as a disk"
t=$SECONDS
kitdir=$(mktemp -d)
kit "$kitdir"
bash hack/vm/vm.sh up "$name" --kit "$kitdir"
rm -rf "$kitdir"
boot_s=$((SECONDS - t))
step "copy the install kit to $VM_GUEST_DIR"
t=$SECONDS; vm_ssh "$name" "$(kit_copy_cmd "$VM_GUEST_DIR")"; copy_s=$((SECONDS - t))
step "install nodeagent in the VM as the README says"
t=$SECONDS; vm_ssh "$name" timeout 420 bash "$VM_GUEST_DIR/hack/vm/guest-install.sh"; install_s=$((SECONDS - t))
step "checks"
t=$SECONDS; vm_ssh "$name" timeout 300 bash -s <<<"$SERVE_CHECK
$CHECKS"; check_s=$((SECONDS - t))
step "systemctl restart nodeagent, the proxy switched to ipvs"
t=$SECONDS; vm_ssh "$name" timeout 300 bash -s <<<"$SERVE_CHECK
$RESTART"; restart_s=$((SECONDS - t))
if [ "${VM_SMOKE_REBOOT:-1}" = 0 ]; then
  step "vm-smoke passed in $((SECONDS - started)) s (boot ${boot_s} s, copy ${copy_s} s, install+start ${install_s} s, checks ${check_s} s, restart ${restart_s} s; no reboot: VM_SMOKE_REBOOT=0)"
  exit 0
fi
step "reboot the VM"
t=$SECONDS
boot_id=$(vm_ssh "$name" cat /proc/sys/kernel/random/boot_id)
before=$(vm_ssh "$name" KUBECONFIG=/var/lib/nodeagent/server/admin.kubeconfig kubectl get pod smoke -o jsonpath='{.status.containerStatuses[0].containerID}')
vm_ssh "$name" systemctl reboot || true # the connection may drop
new_boot() { local id; id=$(vm_ssh "$name" cat /proc/sys/kernel/random/boot_id) && [ -n "$id" ] && [ "$id" != "$boot_id" ]; }
wait_for 300 "VM $name back after its reboot (a new boot id)" new_boot
vm_ssh "$name" timeout 300 bash -s <<<"$SERVE_CHECK
before='$before'
$AFTER_REBOOT"; reboot_s=$((SECONDS - t))
step "vm-smoke passed in $((SECONDS - started)) s (boot ${boot_s} s, copy ${copy_s} s, install+start ${install_s} s, checks ${check_s} s, restart ${restart_s} s, reboot ${reboot_s} s)"
