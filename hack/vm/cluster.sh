#!/usr/bin/env bash
# make vm-cluster: issue 14's acceptance, tried as a new user would, in three
# Debian VMs (make vm's base) on one bridge in one lab network namespace,
# nalab-vm-cluster (hack/vm/lib.sh: nothing touches the host's own network
# namespace; the host reaches the VMs only from inside that one). vm1 installs
# nodeagent as README "nodeagent as a systemd service on a VM" says (the
# server and its agent); vm2 and vm3 run the join command vm1 wrote to
# <data-dir>/join-command (read over ssh, root only) as README "Several
# machines" says (nodeagent-join.service). Then, each step printed with its
# time and every wait polled with a deadline:
#   - kubectl get nodes on vm1 (admin kubeconfig): three Ready, distinct podCIDRs;
#   - a Deployment of 3 (the test image, a topology spread over
#     kubernetes.io/hostname) and a ClusterIP Service: one pod per node; the
#     Service and every pod IP answer from every node and from the pod on
#     every node (kubectl exec);
#   - kubectl logs and exec of vm2's pod through the server;
#   - every pod's memory limit in its cgroup v2 memory.max, read on its VM;
#   - systemctl restart of vm2's agent: its pod keeps its container, restartCount 0;
#   - the same with the server stopped: the restart returns (READY=1 after
#     60 s, the status naming the node it waits for), the pod's process stays,
#     and once the server is started again the node is Ready and the unit's
#     status says ready;
#   - vm3's qemu killed: its node NotReady with the unreachable taint within
#     the node-monitor grace period, its pod Ready=False; the pod deleted by
#     hand (the bundled controllers evict nothing), the Deployment's
#     replacement runs on vm1 or vm2 and the Service still answers.
# A failed check is reported and the checks that do not depend on it go on;
# the exit status is 0 only when every check passed. The VMs, their
# overlays and taps, the bridge and the namespace are removed at the end, also
# on failure (VM_KEEP=1 keeps them: hack/vm/vm.sh ssh vm1; vm.sh down vm1,
# vm2, vm3).
# Console logs: /var/log/nodeagent/vm/vmN.console.log.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root
cd "$REPO_ROOT"

export VM_LAB=vm-cluster
# Three VMs booting at once under TCG on two cores take longer than one.
export VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-600}
VMS=(vm1 vm2 vm3)
server=vm1
started=$SECONDS
kitdir=
failures=()
ADMIN=/var/lib/nodeagent/server/admin.kubeconfig
MEMORY_LIMIT=67108864 # the Deployment's 64Mi

# say MSG: a line with the time of day and the seconds since the start.
say() { printf '    [%s +%ds] %s\n' "$(date -u +%H:%M:%S)" "$((SECONDS - started))" "$*"; }

# fail WHAT: a failed check, reported now and in the summary.
fail() {
  failures+=("$1")
  printf '    [%s +%ds] FAILED: %s\n' "$(date -u +%H:%M:%S)" "$((SECONDS - started))" "$1" >&2
}

# poll SECONDS WHAT CMD...: CMD until it succeeds (deadline SECONDS), then
# says how long it took.
poll() {
  local seconds=$1 what=$2 t=$SECONDS
  shift 2
  wait_for "$seconds" "$what" "$@" || return 1
  say "$what: after $((SECONDS - t)) s"
}

unit() { if [ "$1" = "$server" ]; then echo nodeagent; else echo nodeagent-join; fi; }

finish() {
  local rc=$? n
  trap - EXIT
  [ -z "$kitdir" ] || rm -rf "$kitdir"
  if [ "$rc" -ne 0 ]; then
    for n in "${VMS[@]}"; do
      if vm_ssh "$n" true 2>/dev/null; then
        echo "---- $n: journalctl -u $(unit "$n") (last 40 lines) ----" >&2
        vm_ssh "$n" journalctl -u "$(unit "$n")" --no-pager -n 40 >&2 || true
      fi
      vm_console_report "$n" >&2 || true
    done
  fi
  if [ "${VM_KEEP:-}" = 1 ]; then
    echo "VM_KEEP=1: VMs ${VMS[*]} stay (hack/vm/vm.sh down NAME removes each; the lab goes with the last)"
  else
    for n in "${VMS[@]}"; do bash "$REPO_ROOT/hack/vm/vm.sh" down "$n" || true; done
  fi
  exit "$rc"
}

# each FN NAME...: FN NAME for every NAME at once, its output prefixed
# with the name; fails when any failed.
each() {
  local fn=$1 n p rc=0 pids=()
  shift
  for n in "$@"; do
    ("$fn" "$n" 2>&1 | sed -u "s/^/    [$n] /") &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}

up_vm() { bash hack/vm/vm.sh up "$1" --kit "$kitdir"; }
copy_kit() { vm_ssh "$1" "$(kit_copy_cmd "$VM_GUEST_DIR")"; }
install_vm() {
  if [ "$1" = "$server" ]; then
    vm_ssh "$1" timeout 900 bash "$VM_GUEST_DIR/hack/vm/guest-install.sh"
  else
    vm_ssh "$1" timeout 900 bash "$VM_GUEST_DIR/hack/vm/guest-install.sh" deps
  fi
}
join_vm() { vm_ssh "$1" timeout 420 bash "$VM_GUEST_DIR/hack/vm/guest-install.sh" join <<<"$joincmd"; }

# The helpers the checks run on vm1 (sourced from /root/cluster-lib.sh).
read -r -d '' REMOTE <<'SH' || true
export KUBECONFIG=/var/lib/nodeagent/server/admin.kubeconfig
# nodes: "name Ready-status podCIDR" per node.
nodes() { kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.spec.podCIDR}{"\n"}{end}'; }
ready_nodes() { nodes | awk '$2 == "True"' | wc -l; }
node_ready() { kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
# pods: "name node podIP Ready-status" per pod of the Deployment, not deleting.
pods() {
  kubectl get pods -l app=web --no-headers -o custom-columns='N:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP,R:.status.conditions[?(@.type=="Ready")].status,D:.metadata.deletionTimestamp' |
    awk '$5 == "<none>" {print $1, $2, $3, $4}'
}
ready_pods() { pods | awk '$4 == "True"' | wc -l; }
pod_ready() { kubectl get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
container() { kubectl get pod "$1" -o jsonpath='{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}'; }
renewed() { kubectl -n kube-node-lease get lease "$1" -o jsonpath='{.spec.renewTime}'; }
SH

# The Deployment and its Service. The bundled scheduler has no topology
# spread (controllers/scheduler/doc.go): the pods spread by its
# least-allocated score over their requests; the constraint is what a user
# writes for kube-scheduler (ScheduleAnyway, so that a replacement may run
# beside another pod once a node is gone).
read -r -d '' MANIFEST <<'YAML' || true
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: 127.0.0.1:5000/nodeagent/testserver:v1
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: 100m, memory: 32Mi}, limits: {cpu: 200m, memory: 64Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML

# rk CMD: CMD on vm1 with the helpers above and the admin kubeconfig.
rk() { vm_ssh "$server" ". /root/cluster-lib.sh; $1"; }

# answers NODE URL WANT: curl on NODE gets WANT from URL.
answers() { [ "$(vm_ssh "$1" curl -fsS --max-time 3 "$2")" = "$3" ]; }

# reachability: the Service (its pods' names come back) and every pod IP
# from every node, and from the pod on every node.
reachability() {
  local n p q name node ip rest pod how out
  for n in "${VMS[@]}"; do
    poll 90 "$n: the Service $svc:80 answers (curl on the node)" vm_ssh "$n" curl -fsS --max-time 3 "http://$svc/hostname" ||
      fail "$n: the Service $svc:80 did not answer"
    for p in "${PODS[@]}"; do
      read -r name node ip rest <<<"$p"
      poll 90 "$n: pod $name ($node) answers on $ip:8080" answers "$n" "http://$ip:8080/hostname" "$name" ||
        fail "$n: pod $name ($node) at $ip:8080 did not answer"
    done
  done
  for p in "${PODS[@]}"; do
    read -r pod node ip rest <<<"$p"
    how=exec
    if ! out=$(rk "kubectl exec $pod -- /usr/local/bin/testserver version" 2>&1); then
      fail "kubectl exec $pod (on $node) through the server: $out"
      say "so from $node's pod by nsenter into its network namespace on $node instead"
      how=netns
    fi
    poll 90 "pod on $node ($how): the Service answers" "${how}_check" "$pod" "$node" "http://$svc/hostname" "" ||
      fail "pod on $node ($how): the Service $svc:80 did not answer"
    for q in "${PODS[@]}"; do
      read -r name rest ip rest <<<"$q"
      poll 90 "pod on $node ($how): pod $name answers on $ip:8080" "${how}_check" "$pod" "$node" "http://$ip:8080/hostname" "$name" ||
        fail "pod on $node ($how): pod $name at $ip:8080 did not answer"
    done
  done
}

# exec_check POD NODE URL WANT: the pod fetches URL (kubectl exec through
# the server) and gets WANT (empty: any answer). netns_check: the same by
# curl on NODE in the network namespace of the test image's server there
# (one pod per node), for when kubectl exec fails.
exec_check() {
  local out
  out=$(rk "kubectl exec $1 -- /usr/local/bin/testserver get --timeout 3s $3") || return 1
  [ -z "$4" ] || [ "$out" = "request 1: $4" ]
}
netns_check() {
  local out
  out=$(vm_ssh "$2" "nsenter -t \$(pgrep -f '^/usr/local/bin/testserver serve' | head -1) -n curl -fsS --max-time 3 $3") || return 1
  [ -z "$4" ] || [ "$out" = "$4" ]
}

# pod_on NODE: the Deployment's pod on NODE.
pod_on() {
  local p name node rest
  for p in "${PODS[@]}"; do
    read -r name node rest <<<"$p"
    [ "$node" != "$1" ] || { echo "$name"; return; }
  done
  return 1
}

trap finish EXIT
step "base image (make vm), bin/nodeagent, the test image"
bash hack/vm/image.sh >/dev/null
build_nodeagent
test_image
say "built"

step "boot ${VMS[*]} together on one bridge in lab $VM_LAB (nalab-$VM_LAB), each with the install kit as a disk"
kitdir=$(mktemp -d)
kit "$kitdir"
mkdir -p "$VM_LOGS"
t=$SECONDS
each up_vm "${VMS[@]}"
rm -rf "$kitdir"
kitdir=
each copy_kit "${VMS[@]}"
boot_s=$((SECONDS - t))
say "booted: $(for n in "${VMS[@]}"; do printf '%s %s  ' "$n" "$(vm_ip "$n")"; done)"

step "$server: the README's install (server + agent, systemd); ${VMS[*]:1}: make deps"
t=$SECONDS
each install_vm "${VMS[@]}"
install_s=$((SECONDS - t))
say "installed"

step "$server's join command (<data-dir>/join-command, root only), run on ${VMS[*]:1} as README \"Several machines\" says"
t=$SECONDS
poll 60 "$server wrote /var/lib/nodeagent/server/join-command" vm_ssh "$server" test -s /var/lib/nodeagent/server/join-command
joincmd=$(vm_ssh "$server" cat /var/lib/nodeagent/server/join-command)
say "join command: $(sed 's/--token [^ ]*/--token <redacted>/' <<<"$joincmd")"
each join_vm "${VMS[@]:1}"
join_s=$((SECONDS - t))
say "joined"
vm_ssh "$server" "cat >/root/cluster-lib.sh" <<<"$REMOTE"

step "kubectl get nodes: three Ready, distinct pod CIDRs"
poll 300 "three Ready nodes" rk '[ "$(ready_nodes)" = 3 ]'
rk "kubectl get nodes -o wide"
cidrs=$(rk nodes | awk '$3 != "" {print $3}' | sort -u | wc -l)
say "pod CIDRs: $(rk nodes | awk '{printf "%s %s  ", $1, $3}')"
[ "$cidrs" = 3 ] || fail "the nodes' spec.podCIDR are not three distinct ranges"

step "a Deployment of 3 and a ClusterIP Service"
rk "kubectl apply -f -" <<<"$MANIFEST"
poll 300 "three Ready pods" rk '[ "$(ready_pods)" = 3 ]'
mapfile -t PODS < <(rk pods)
printf '      %s\n' "${PODS[@]}"
spread=$(printf '%s\n' "${PODS[@]}" | awk '{print $2}' | sort -u | wc -l)
[ "$spread" = 3 ] || fail "the pods are not one per node"
svc=$(rk "kubectl get service web -o jsonpath='{.spec.clusterIP}'")
say "Service web: $svc:80"

step "the Service and every pod IP from every node and from the pod on every node"
reachability

step "kubectl logs and exec of vm2's pod through the server"
if p2=$(pod_on vm2); then
  if out=$(rk "kubectl logs $p2 --tail 3" 2>&1); then say "kubectl logs $p2: $(tr '\n' ' ' <<<"$out")"; else fail "kubectl logs $p2 (on vm2): $out"; fi
  if out=$(rk "kubectl exec $p2 -- /usr/local/bin/testserver version" 2>&1); then say "kubectl exec $p2: $out"; else fail "kubectl exec $p2 (on vm2): $out"; fi
else
  fail "no pod on vm2"
fi

step "cgroup v2: each pod's memory limit in its cgroup's memory.max"
for n in "${VMS[@]}"; do
  out=$(vm_ssh "$n" 'fs=$(stat -fc %T /sys/fs/cgroup); pid=$(pgrep -f "^/usr/local/bin/testserver serve" | head -1); cg=$(cut -d: -f3 "/proc/$pid/cgroup"); echo "$fs $cg $(cat "/sys/fs/cgroup$cg/memory.max")"') || out="(not read)"
  say "$n: $out"
  [[ $out == "cgroup2fs "*" $MEMORY_LIMIT" ]] || fail "$n: the pod's cgroup v2 memory.max is not $MEMORY_LIMIT: $out"
done

step "systemctl restart of vm2's agent keeps its pod"
if [ -n "${p2:-}" ]; then
  before=$(rk "container $p2")
  pid=$(vm_ssh vm2 "pgrep -f '^/usr/local/bin/testserver serve' | head -1")
  say "before: container $before, process $pid"
  t=$SECONDS
  vm_ssh vm2 systemctl restart nodeagent-join
  say "systemctl restart nodeagent-join returned after $((SECONDS - t)) s (Type=notify: the node is Ready)"
  lease=$(rk "renewed vm2")
  # The Lease renewed after the restart returned is the new process's.
  poll 60 "vm2's new agent renewed its Lease" rk "[ \"\$(renewed vm2)\" != '$lease' ]"
  poll 60 "$p2 Ready" rk "[ \"\$(pod_ready $p2)\" = True ]"
  after=$(rk "container $p2")
  pid2=$(vm_ssh vm2 "pgrep -f '^/usr/local/bin/testserver serve' | head -1")
  say "after: container $after, process $pid2"
  [ "$after" = "$before" ] && [ "${after##* }" = 0 ] && [ "$pid2" = "$pid" ] ||
    fail "vm2's pod did not keep its container across the restart: before $before (pid $pid), after $after (pid $pid2)"
fi

step "the server down: vm2's agent restarts, keeps its pod, and reports again once the server is back"
vm_ssh "$server" systemctl stop nodeagent
say "$server: systemctl stop nodeagent (the API server and its agent; pods stay)"
pid=$(vm_ssh vm2 "pgrep -f '^/usr/local/bin/testserver serve' | head -1") || pid=
t=$SECONDS
if vm_ssh vm2 timeout 200 systemctl restart nodeagent-join; then
  status=$(vm_ssh vm2 systemctl show -P StatusText nodeagent-join)
  say "vm2: systemctl restart nodeagent-join returned after $((SECONDS - t)) s with the server down; $(vm_ssh vm2 systemctl is-active nodeagent-join); status: $status"
  [[ $status == "running; waiting for: node"* ]] || fail "vm2's status with the server down: $status"
else
  fail "vm2: systemctl restart nodeagent-join with the server down did not return within 200 s (or failed): $(vm_ssh vm2 systemctl is-active nodeagent-join)"
fi
pid2=$(vm_ssh vm2 "pgrep -f '^/usr/local/bin/testserver serve' | head -1") || pid2=
[ -n "$pid" ] && [ "$pid2" = "$pid" ] || fail "vm2's pod process changed while the server was down: $pid, then $pid2"
t=$SECONDS
vm_ssh "$server" systemctl start nodeagent
say "$server: systemctl start nodeagent returned after $((SECONDS - t)) s"
poll 120 "node vm2 Ready again" rk '[ "$(node_ready vm2)" = True ]' || fail "node vm2 not Ready after the server came back"
poll 60 "vm2's unit says ready" vm_ssh vm2 "systemctl show -P StatusText nodeagent-join | grep -q '^ready:'" ||
  fail "vm2's status after the server came back: $(vm_ssh vm2 systemctl show -P StatusText nodeagent-join)"

step "kill vm3: its node NotReady, its pod marked, a replacement elsewhere"
p3=$(pod_on vm3) || { fail "no pod on vm3"; p3=; }
qpid=$(cat "$(vm_dir vm3)/qemu.pid")
kill -KILL "$qpid"
t=$SECONDS
say "kill -KILL vm3's qemu ($qpid)"
poll 20 "vm3's qemu is gone" bash -c "! kill -0 $qpid"
if poll 180 "node vm3 not Ready" rk '[ "$(node_ready vm3)" != True ]'; then
  dead_s=$((SECONDS - t))
  say "node vm3 Ready=$(rk 'node_ready vm3') after ${dead_s} s (node-monitor grace period 40 s, checked every 5 s; the last Lease renewal was up to 10 s before the kill)"
  [ "$dead_s" -le 60 ] || fail "node vm3 went NotReady only after $dead_s s"
  taints=$(rk "kubectl get node vm3 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect} {end}'")
  say "vm3's taints: $taints"
  [[ $taints == *node.kubernetes.io/unreachable:NoExecute* ]] || fail "vm3 has no node.kubernetes.io/unreachable:NoExecute taint: $taints"
else
  fail "node vm3 stayed Ready"
fi
if [ -n "$p3" ]; then
  poll 60 "vm3's pod $p3 Ready=False" rk "[ \"\$(pod_ready $p3)\" = False ]" ||
    fail "vm3's pod $p3 was not marked Ready=False (Ready=$(rk "pod_ready $p3"))"
  rk "kubectl delete pod $p3 --force --grace-period=0" 2>&1 | sed 's/^/      /'
  say "deleted vm3's pod $p3 by hand"
fi
if poll 180 "three Ready pods, none on vm3" rk '[ "$(ready_pods)" = 3 ] && ! pods | grep -q " vm3 "'; then
  mapfile -t PODS < <(rk pods)
  printf '      %s\n' "${PODS[@]}"
  for n in vm1 vm2; do
    poll 60 "$n: the Service answers" vm_ssh "$n" curl -fsS --max-time 3 "http://$svc/hostname" || fail "$n: the Service did not answer after vm3 went"
  done
else
  fail "the Deployment has no replacement for vm3's pod"
fi

step "vm-cluster: $((SECONDS - started)) s (boot ${boot_s} s, install ${install_s} s, join ${join_s} s), ${#failures[@]} check(s) failed"
[ "${#failures[@]}" -eq 0 ] || { printf '    failed: %s\n' "${failures[@]}" >&2; exit 1; }
