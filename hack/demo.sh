#!/usr/bin/env bash
# make demo: installs what is needed, brings up a lab node running
# `nodeagent server` (API server, controllers, the agent and its service
# proxy), applies examples/web.yaml (three pods behind a Service) with
# kubectl, shows pods, Services and EndpointSlices, the Service answering
# from each backend (from the node, on the node port, and from a client
# pod), and removes everything on exit.
#   sudo make demo PROXY_MODE=nftables   the proxy mode (default iptables)
#   sudo make demo KEEP=1     leave the lab up and print how to use and remove it
#   sudo hack/demo.sh down    remove a lab left up with KEEP=1
# (KEEP=1 sudo make demo would not keep it: sudo drops the variable.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root

LAB=demo
NODE=demo
NA=$REPO_ROOT/bin/nodeagent
STATE=$NA_RUN/lab/$LAB
NS=nodeagent-demo                 # containerd namespace of the demo's pods
KUBECONFIG_PATH=$STATE/server/admin.kubeconfig

# in_lab CMD...: run a command inside the lab node.
in_lab() { "$NA" lab exec "$LAB" -- "$@"; }
kc() { in_lab kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }

down() {
  set +e
  echo "==> removing the demo"
  if [ -f "$KUBECONFIG_PATH" ] && in_lab true 2>/dev/null; then
    kc delete pods --all --grace-period=1 --timeout=60s >/dev/null 2>&1
  fi
  "$NA" lab down "$LAB" >/dev/null 2>&1
  for task in $(ctr_na -n "$NS" tasks ls -q 2>/dev/null); do ctr_na -n "$NS" tasks kill -s SIGKILL "$task" >/dev/null 2>&1; done
  for c in $(ctr_na -n "$NS" containers ls -q 2>/dev/null); do
    ctr_na -n "$NS" tasks delete "$c" >/dev/null 2>&1
    ctr_na -n "$NS" containers delete "$c" >/dev/null 2>&1
  done
  ctr_na -n "$NS" images rm --sync "$TEST_IMAGE" >/dev/null 2>&1
  ctr_na namespaces remove "$NS" >/dev/null 2>&1
  # The (empty) directories containerd, its shims and runc keep per namespace.
  rmdir "$NA_RUN/containerd/state/io.containerd.runtime.v2.task/$NS" "$NA_RUN/runc/$NS" \
    "$NA_STATE/containerd/io.containerd.runtime.v2.task/$NS" 2>/dev/null
  find /sys/fs/cgroup/*/nodeagent/"$NODE" -depth -type d -exec rmdir {} + 2>/dev/null
  echo "    lab $LAB, its pods and their containers are gone"
}

if [ "${1:-}" = down ]; then
  "$NA" version >/dev/null 2>&1 || build_nodeagent
  down
  exit 0
fi

bash "$REPO_ROOT/hack/install-deps.sh"
bash "$REPO_ROOT/hack/images.sh"
step "build nodeagent"
build_nodeagent

step "lab node '$LAB' (netns nalab-$LAB)"
down >/dev/null 2>&1 || true
"$NA" lab up "$LAB"
[ "${KEEP:-}" = 1 ] || trap down EXIT

step "nodeagent server inside the lab node (log: $STATE/server.log)"
mkdir -p "$STATE"
in_lab setsid "$NA" server --data-dir "$STATE/server" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --node-name "$NODE" --root-dir "$STATE/agent" --pod-log-dir "$STATE/logs" --cni-conf-dir "$STATE/net.d" \
  --cni-cache-dir "$STATE/cni-cache" --cni-ipam-dir "$STATE/ipam" --netns-prefix "nalab-${LAB}_" \
  --containerd-namespace "$NS" --proxy-mode "${PROXY_MODE:-iptables}" >"$STATE/server.log" 2>&1 </dev/null &
wait_for 60 "the API server" test -f "$KUBECONFIG_PATH"
wait_for 60 "node $NODE Ready" bash -c "[ \"\$($NA lab exec $LAB -- kubectl --kubeconfig $KUBECONFIG_PATH get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null)\" = True ]"
kc get nodes -o wide

step "kubectl apply -f examples/web.yaml"
kc apply -f - <"$REPO_ROOT/examples/web.yaml"
kc wait --for=condition=Ready pod --all --timeout=120s >/dev/null
echo
kc get pods -o wide
echo

wait_for 30 "the web Service's EndpointSlice to list 3 ready endpoints" bash -c \
  "[ \"\$($NA lab exec $LAB -- kubectl --kubeconfig $KUBECONFIG_PATH get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].conditions.ready}')\" = 'true true true' ]"
kc get pods,svc,endpointslices -o wide
echo
VIP=$(kc get svc web -o jsonpath='{.spec.clusterIP}')
NODE_IP=$(in_lab ip -4 -o addr show dev na-cni0 | awk '{split($4, a, "/"); print a[1]}')

step "each pod answers on its own IP (curl from inside the lab node)"
for ip in $(kc get pods -l app=web -o jsonpath='{.items[*].status.podIP}'); do
  printf '    %s: %s\n' "$ip" "$(in_lab curl -fsS --max-time 5 "http://$ip:8080/")"
done
echo

step "the Service web ($VIP:80) from the node: each request may reach another backend"
for i in $(seq 12); do printf '    %s\n' "$(in_lab curl -fsS --max-time 5 "http://$VIP/hostname")"; done | sort | uniq -c
step "node port 30080 on the node's address $NODE_IP"
for i in $(seq 12); do printf '    %s\n' "$(in_lab curl -fsS --max-time 5 "http://$NODE_IP:30080/hostname")"; done | sort | uniq -c
step "the Service from a client pod (kubectl logs client)"
sed "s/WEB_CLUSTER_IP/$VIP/" "$REPO_ROOT/examples/client.yaml" | kc apply -f - >/dev/null
kc wait --for=jsonpath='{.status.phase}'=Succeeded pod/client --timeout=60s >/dev/null
kc logs client | sed 's/^/    /'
echo
kc logs web-1 -c web | head -2
echo

if [ "${KEEP:-}" = 1 ]; then
  cat <<USAGE
The lab is still up. Keep using it from a shell inside the lab node, where
kubectl talks to its API server (only the lab node reaches the pods):
  sudo $NA lab exec $LAB -- env KUBECONFIG=$KUBECONFIG_PATH bash
  kubectl get pods,svc,endpointslices -o wide
  kubectl exec web-2 -- hostname                  # exec -it web-2 -- sh for a shell
  kubectl cp $REPO_ROOT/examples/web.yaml web-2:/tmp/web.yaml && kubectl exec web-2 -- head -2 /tmp/web.yaml
  kubectl run -it --rm shell --image=$TEST_IMAGE --restart=Never --command -- sh
  kubectl run ticker --image=$TEST_IMAGE --command -- sh -c 'while true; do date; sleep 1; done'
  kubectl logs -f ticker                          # Ctrl-C to stop following
  kubectl port-forward svc/web 8080:80 & sleep 1; curl -s http://127.0.0.1:8080/hostname; kill %1
  curl -s http://$VIP/hostname    # the Service's cluster IP
  iptables-save -t nat | grep KUBE-               # or: nft list table ip nodeagent
Or one command at a time from the host:
  sudo $NA lab exec $LAB -- kubectl --kubeconfig $KUBECONFIG_PATH get pods -o wide
Remove it:
  sudo $REPO_ROOT/hack/demo.sh down
USAGE
fi
