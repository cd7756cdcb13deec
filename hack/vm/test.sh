#!/usr/bin/env bash
# make vm-test: the root e2e suite inside a fresh VM. The test binary is built
# here (go test -c -tags e2e) and goes in with bin/nodeagent, the checkout's
# files, kubectl and the test image; in the VM, make deps runs offline as for
# the smoke test (hack/vm/guest-install.sh deps) and the test image is pushed
# to the VM's registry. The checkout sits at the same path in the VM as here:
# the e2e framework finds bin/nodeagent from its source path.
#   VM_TEST_RUN=REGEXP      only the tests that match (go test -run)
#   VM_TEST_SKIP=REGEXP     not the tests that match (go test -skip)
#   VM_TEST_TIMEOUT=40m     the suite's deadline (go test -timeout)
#   VM_TEST_COMPAT=1        build the suite with the compat tag too and give the
#                           VM the real kube-apiserver, kube-controller-manager,
#                           kube-scheduler, kube-proxy and etcd (hack/compat.sh's,
#                           built once here); make vm-compat runs TestCompat* so
#                           (the real control plane on Debian's kernel, cgroup v2)
# The suite's output is kept in /var/log/nodeagent/vm/vm-test.log.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
trap on_error ERR
need_root
cd "$REPO_ROOT"

name=${VM_NAME:-e2e}
started=$SECONDS
kitdir=
log=$VM_LOGS/vm-test.log

finish() {
  local rc=$?
  [ -z "$kitdir" ] || rm -rf "$kitdir"
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

# test_kit DIR: the install kit plus, under repo/, the checkout's tracked
# files and the binaries the suite runs.
test_kit() {
  local k=$1 r=$1/repo
  kit "$k"
  mkdir -p "$r/bin/images" "$k/host/gcloud"
  git ls-files -z | tar --null -T - -cf - | tar -C "$r" -xf -
  cp bin/nodeagent bin/e2e.test bin/imagebuild bin/testserver "$r/bin/"
  cp bin/images/testserver.tar "$r/bin/images/"
  # The suite runs two kubectls: /usr/bin/kubectl and gcloud's 1.27.
  [ ! -x /usr/lib/google-cloud-sdk/bin/kubectl.1.27 ] || cp /usr/lib/google-cloud-sdk/bin/kubectl.1.27 "$k/host/gcloud/"
  if [ "${VM_TEST_COMPAT:-}" = 1 ]; then
    mkdir -p "$k/host/anchors"
    cp "${anchors[@]}" "$k/host/anchors/"
  fi
}

# The suite's setup and run, in the VM ($1 the checkout's path, $2 go test's flags).
read -r -d '' RUN <<'SH' || true
set -euo pipefail
repo=$1
shift
install -m 0755 /usr/local/bin/kubectl /usr/bin/kubectl
if [ -f /root/nodeagent/host/gcloud/kubectl.1.27 ]; then
  install -D -m 0755 /root/nodeagent/host/gcloud/kubectl.1.27 /usr/lib/google-cloud-sdk/bin/kubectl.1.27
fi
# The compat tests find the real components through these (hack/compat.sh).
for f in /root/nodeagent/host/anchors/*; do
  case ${f##*/} in
  kube-apiserver-*) export NODEAGENT_KUBE_APISERVER=$f ;;
  kube-controller-manager-*) export NODEAGENT_KUBE_CONTROLLER_MANAGER=$f ;;
  kube-scheduler-*) export NODEAGENT_KUBE_SCHEDULER=$f ;;
  kube-proxy-*) export NODEAGENT_KUBE_PROXY=$f ;;
  etcd-*) export NODEAGENT_ETCD=$f ;;
  esac
done
cd "$repo"
echo "==> [vm] push the test image to the registry (make images needs Go)"
bin/imagebuild --server bin/testserver --busybox /bin/busybox --ref 127.0.0.1:5000/nodeagent/testserver:v1 --push >/dev/null
echo "==> [vm] e2e.test $*"
cd e2e
CI=true ../bin/e2e.test -test.count=1 -test.v "$@" >/root/vm-test.log 2>&1 || echo "e2e.test exit status $?" >>/root/vm-test.log
SH

trap finish EXIT
step "base image (make vm)"
bash hack/vm/image.sh >/dev/null
step "bin/nodeagent, the e2e test binary, the test image"
build_nodeagent
test_image
tags=e2e
anchors=()
if [ "${VM_TEST_COMPAT:-}" = 1 ]; then
  tags=e2e,compat
  step "kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy $KUBE_VERSION and etcd $ETCD_VERSION (built once)"
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do anchors+=("$(build_kube "$c")"); done
  anchors+=("$(build_etcd)")
fi
CGO_ENABLED=0 go test -c -tags "$tags" -o bin/e2e.test ./e2e/
CGO_ENABLED=0 go build -o bin/imagebuild ./images/build
step "boot VM $name with the kit as a disk"
t=$SECONDS
kitdir=$(mktemp -d)
test_kit "$kitdir"
bash hack/vm/vm.sh up "$name" --kit "$kitdir"
rm -rf "$kitdir"
kitdir=
boot_s=$((SECONDS - t))
step "the kit to $VM_GUEST_DIR and the checkout to $REPO_ROOT"
vm_ssh "$name" "set -e; mkdir -p /mnt/kit $VM_GUEST_DIR $REPO_ROOT; mount -o ro /dev/disk/by-label/nodeagent-kit /mnt/kit
  cp -a /mnt/kit/repo/. $REPO_ROOT/
  for f in /mnt/kit/*; do [ \"\$f\" = /mnt/kit/repo ] || [ \"\$f\" = /mnt/kit/lost+found ] || cp -a \"\$f\" $VM_GUEST_DIR/; done
  umount /mnt/kit"
step "make deps in the VM (offline)"
vm_ssh "$name" timeout 420 bash "$VM_GUEST_DIR/hack/vm/guest-install.sh" deps
step "the e2e suite${VM_TEST_RUN:+ (-run $VM_TEST_RUN)}${VM_TEST_SKIP:+ (-skip $VM_TEST_SKIP)}"
t=$SECONDS
flags=(-test.timeout "${VM_TEST_TIMEOUT:-40m}")
[ -z "${VM_TEST_RUN:-}" ] || flags+=(-test.run "$VM_TEST_RUN")
[ -z "${VM_TEST_SKIP:-}" ] || flags+=(-test.skip "$VM_TEST_SKIP")
# ssh joins its arguments into one shell line: quote them.
vm_ssh "$name" "bash -s -- $(printf '%q ' "$REPO_ROOT" "${flags[@]}")" <<<"$RUN"
suite_s=$((SECONDS - t))
mkdir -p "$VM_LOGS"
vm_ssh "$name" cat /root/vm-test.log >"$log"
pass=$(grep -c '^--- PASS' "$log" || true)
fail=$(grep -c '^--- FAIL' "$log" || true)
skip=$(grep -c '^--- SKIP' "$log" || true)
grep -E '^--- (FAIL|SKIP)' "$log" | sed 's/^/    /' || true
step "vm-test: $pass passed, $fail failed, $skip skipped; suite $suite_s s, all $((SECONDS - started)) s (boot $boot_s s); log $log"
[ "$fail" -eq 0 ] && grep -q '^PASS$' "$log"
