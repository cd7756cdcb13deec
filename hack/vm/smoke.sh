#!/usr/bin/env bash
# make vm-smoke: the one-VM smoke test. Boots a fresh Debian VM (make vm's
# cached base), installs nodeagent in it as the README says (kit: see
# hack/vm/guest-install.sh), then checks: the unit is active once the node is
# Ready, `kubectl get nodes` says Ready, a pod runs and its Service answers
# on the ClusterIP (from the VM itself), the VM uses cgroup v2,
# and nodeagent's log is in journald. Every wait has a deadline; the VM and
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
  fi
  if [ "$rc" -ne 0 ]; then
    echo "---- serial console: $VM_LOGS/$name.console.log (last 20 lines) ----" >&2
    tail -n 20 "$VM_LOGS/$name.console.log" >&2 2>/dev/null || true
  fi
  if [ "${VM_KEEP:-}" = 1 ]; then
    echo "VM_KEEP=1: VM $name stays (hack/vm/vm.sh down $name removes it)"
  else
    bash "$REPO_ROOT/hack/vm/vm.sh" down "$name" || true
  fi
  exit "$rc"
}

# The checks, run in the VM.
read -r -d '' CHECKS <<'SH' || true
set -euo pipefail
export KUBECONFIG=/var/lib/nodeagent/server/admin.kubeconfig
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
deadline=$((SECONDS + 60))
until out=$(curl -fsS --max-time 2 "http://$ip/hostname" 2>/dev/null); do
  [ "$SECONDS" -lt "$deadline" ] || { echo "service smoke ($ip:80) did not answer within 60 s" >&2; exit 1; }
  sleep 0.5
done
echo "==> [vm] service smoke at $ip:80 answers from pod $out (proxy mode $(awk '/proxy-mode/ {print $2; exit}' /etc/nodeagent/config.yaml))"
[ "$out" = smoke ]
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
journalctl -u nodeagent --no-pager -o cat | grep -m1 'msg=ready component=systemd part=proxy'
echo "==> [vm] systemd's status line: $(systemctl show -P StatusText nodeagent)"
systemctl show -P StatusText nodeagent | grep -q '^ready: api, node, proxy'

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
t=$SECONDS; vm_ssh "$name" timeout 300 bash -s <<<"$CHECKS"; check_s=$((SECONDS - t))
step "vm-smoke passed in $((SECONDS - started)) s (boot ${boot_s} s, copy ${copy_s} s, install+start ${install_s} s, checks ${check_s} s)"
