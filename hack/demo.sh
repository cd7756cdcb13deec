#!/usr/bin/env bash
# make demo: installs what is needed, brings up a lab node, runs the test
# image in containerd inside it on a CNI network, and prints what the
# container answers over that network. Everything it makes is removed on exit.
#
# The plumbing is spelled out with the plain tools (ip netns, the CNI bridge
# plugin, ctr, curl) so that you can follow each step by hand.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root

LAB=demo
NS=nodeagent-demo                       # containerd namespace of the demo
POD=demo-pod
NA=$REPO_ROOT/bin/nodeagent
STATE=$NA_RUN/lab/$LAB
POD_NETNS=/var/run/netns/nalab-${LAB}_pod

bash "$REPO_ROOT/hack/install-deps.sh"
bash "$REPO_ROOT/hack/images.sh"
step "build nodeagent"
build_nodeagent

# cni CMD: run the bridge plugin (with host-local IPAM) inside the lab node.
cni() {
  "$NA" lab exec "$LAB" -- env CNI_COMMAND="$1" CNI_CONTAINERID="$POD" CNI_NETNS="$POD_NETNS" \
    CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni:/opt/cni/bin \
    /usr/lib/cni/bridge <"$STATE/bridge.conf"
}

cleanup() {
  set +e
  echo "==> cleaning up"
  ctr_na -n "$NS" tasks kill -s SIGKILL "$POD" >/dev/null 2>&1
  for _ in $(seq 50); do ctr_na -n "$NS" tasks delete "$POD" >/dev/null 2>&1 && break; sleep 0.1; done
  ctr_na -n "$NS" containers delete "$POD" >/dev/null 2>&1
  ctr_na -n "$NS" images rm --sync "$TEST_IMAGE" >/dev/null 2>&1
  ctr_na namespaces remove "$NS" >/dev/null 2>&1
  [ -f "$STATE/bridge.conf" ] && cni DEL >/dev/null 2>&1
  "$NA" lab down "$LAB" >/dev/null
  echo "    lab $LAB, its pod network and the container are gone"
}

step "lab node '$LAB' (netns nalab-$LAB)"
"$NA" lab down "$LAB" >/dev/null 2>&1 || true
"$NA" lab up "$LAB"
trap cleanup EXIT

step "pod network namespace and CNI ADD (bridge na-cni0 + host-local 10.244.0.0/24)"
ip netns add "nalab-${LAB}_pod"
cat >"$STATE/bridge.conf" <<CONF
{"cniVersion": "1.0.0", "name": "demo", "type": "bridge", "bridge": "na-cni0",
 "isGateway": true, "ipMasq": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]],
          "dataDir": "$STATE/ipam"}}
CONF
result=$(cni ADD)
POD_IP=$(printf '%s' "$result" | tr -d ' \n' | sed -n 's/.*"address":"\([0-9.]*\)\/[0-9]*".*/\1/p')
[ -n "$POD_IP" ] || die "CNI ADD returned no address: $result"
echo "    pod IP: $POD_IP"

step "pull $TEST_IMAGE from the local registry and run it in the pod's namespace"
ctr_na -n "$NS" images pull --plain-http "$TEST_IMAGE" >/dev/null
ctr_na -n "$NS" run -d --with-ns "network:$POD_NETNS" --hostname "$POD" "$TEST_IMAGE" "$POD" >/dev/null

step "ask the container, from inside the lab node: curl http://$POD_IP:8080/"
for _ in $(seq 100); do
  "$NA" lab exec "$LAB" -- curl -fsS --max-time 2 "http://$POD_IP:8080/" >/dev/null 2>&1 && break
  sleep 0.1
done
echo
"$NA" lab exec "$LAB" -- curl -fsS --max-time 5 "http://$POD_IP:8080/"
"$NA" lab exec "$LAB" -- curl -fsS --max-time 5 "http://$POD_IP:8080/echo?msg=the+container+answers+over+the+CNI+bridge"
echo
echo
echo "The lab node's links:"
"$NA" lab exec "$LAB" -- ip -br addr 2>/dev/null
echo
