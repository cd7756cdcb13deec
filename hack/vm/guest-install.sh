#!/usr/bin/env bash
# Runs INSIDE a VM, from the install kit hack/vm/smoke.sh copies to
# /root/nodeagent: installs nodeagent exactly as the README's "nodeagent as a
# systemd service on a VM" says. The VM has no route to a mirror or the Go
# proxy, so what `make deps` would download or build comes from the host:
# its Debian packages are in the base image, and containerd and the registry
# (built by the host's `make deps`) are put where `make deps` leaves them,
# so that it finds them present. bin/nodeagent is the host's build (the VM
# has no Go toolchain for `make build`).
#   guest-install.sh          all of it: the README's install, the service started
#   guest-install.sh deps     only make deps and the test image (for the e2e suite,
#                             which starts its own servers)
#   guest-install.sh join     after deps: the README's join of this machine as a
#                             node, the join command (a line) read from stdin
set -euo pipefail
mode=${1:-all}
cd "$(dirname "$0")/../.."
kit=host

step() { printf '==> [vm] %s\n' "$1"; }

# join: README "Several machines": nodeagent-join.service with the join
# command in /etc/nodeagent/join.env.
join() {
  local cmd
  IFS= read -r cmd
  [[ $cmd == "nodeagent join "* ]] || { echo "stdin: want the join command (nodeagent join ...), got \"${cmd:0:40}\"" >&2; return 1; }
  step "the README's join: nodeagent, the join unit, the join command in /etc/nodeagent/join.env"
  sudo install -m 0755 bin/nodeagent bin/nodeagent-pause bin/nodeagent-logger /usr/local/bin/
  sudo install -m 0644 examples/systemd/nodeagent-join.service /etc/systemd/system/
  sudo install -d -m 0700 /etc/nodeagent
  sudo install -m 0644 examples/systemd/config.yaml /etc/nodeagent/config.yaml
  echo "$cmd" | sudo sh -c 'umask 077; sed "s/^nodeagent join /NODEAGENT_JOIN=/" >/etc/nodeagent/join.env'
  step "systemctl enable --now nodeagent-join (returns once the node is Ready: Type=notify)"
  sudo systemctl daemon-reload && sudo systemctl enable --now nodeagent-join
}

if [ "$mode" = join ]; then
  join
  exit 0
fi

step "containerd and the registry from the host, where make deps puts them"
install -m 0755 "$kit/containerd" "$kit/containerd-shim-runc-v2" "$kit/ctr" /usr/local/bin/
install -D -m 0755 "$kit/registry" /usr/local/lib/nodeagent/bin/registry
printf '%s\n' /usr/local/bin/containerd /usr/local/bin/containerd-shim-runc-v2 /usr/local/bin/ctr \
  >/usr/local/lib/nodeagent/installed-files
install -m 0755 "$kit/kubectl" /usr/local/bin/kubectl

step "the README's install: make deps"
sudo make deps

step "the test image into nodeagent's containerd (make images needs Go)"
ctr --address /run/nodeagent/containerd/containerd.sock -n nodeagent images import --no-unpack \
  bin/images/testserver.tar 2> >(grep -v 'cgroup v1' >&2) >/dev/null
[ "$mode" = deps ] && exit 0

step "the README's install: nodeagent, its config and unit"
sudo install -m 0755 bin/nodeagent bin/nodeagent-pause bin/nodeagent-logger /usr/local/bin/
sudo install -D -m 0644 examples/systemd/config.yaml /etc/nodeagent/config.yaml
sudo install -m 0644 examples/systemd/nodeagent.service /etc/systemd/system/

step "systemctl enable --now nodeagent (returns once the node is Ready: Type=notify)"
sudo systemctl daemon-reload && sudo systemctl enable --now nodeagent
