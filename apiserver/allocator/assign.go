package allocator

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// View says who holds an item. The etcd allocator reads etcd; tests use a
// map (MapView).
type View interface {
	// Owner returns the "namespace/name" of the service holding k, or ""
	// when k is free.
	Owner(ctx context.Context, k Key) (string, error)
	// List returns every held key starting with prefix ("ip/", "port/")
	// and its owner.
	List(ctx context.Context, prefix string) (map[Key]string, error)
}

// ErrFull says a range has nothing left to hand out.
var ErrFull = errors.New("range is full")

// KubernetesService is the service that holds the first IP of the range.
const KubernetesService = "default/kubernetes"

// Assigner fills in a service's cluster IP and node ports, and checks the
// ones a client asked for, against a View. It only decides: the etcd
// allocator's Plan writes the decision together with the service.
type Assigner struct {
	IPs   IPRange
	Ports PortRange
	View  View
	Rand  Rand
}

// randomTries is how many random picks are tried before scanning the range.
const randomTries = 32

// Assign fills in and checks what svc (old: the stored version on update,
// nil on create) must hold. Field errors are the client's (422); an error
// is the server's (a full range, etcd).
func (a *Assigner) Assign(ctx context.Context, svc, old *corev1.Service) (field.ErrorList, error) {
	if errs := families(svc); len(errs) > 0 {
		return errs, nil
	}
	held := map[Key]bool{}
	for _, k := range Held(old) {
		held[k] = true
	}
	j := &job{a: a, ctx: ctx, owner: ownerOf(svc), held: held, claimed: map[Key]bool{}}
	errs, err := j.clusterIP(svc)
	if err != nil || len(errs) > 0 {
		return errs, err
	}
	if errs, err = j.nodePorts(svc); err != nil || len(errs) > 0 {
		return errs, err
	}
	return j.healthCheckNodePort(svc)
}

// families refuses what this single-stack IPv4 cluster cannot give.
func families(svc *corev1.Service) field.ErrorList {
	spec, fld := &svc.Spec, field.NewPath("spec")
	if !needsClusterIP(svc) {
		return nil
	}
	headlessNoSelector := spec.ClusterIP == corev1.ClusterIPNone && len(spec.Selector) == 0
	if p := spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack && !headlessNoSelector {
		return field.ErrorList{field.Invalid(fld.Child("ipFamilyPolicy"), *p, "this cluster is not configured for dual-stack services")}
	}
	for i, f := range spec.IPFamilies {
		if f != corev1.IPv4Protocol && !headlessNoSelector {
			return field.ErrorList{field.Invalid(fld.Child("ipFamilies").Index(i), f, "not configured on this cluster")}
		}
	}
	return nil
}

// job is one Assign call: what the stored version held and what this call
// has claimed so far.
type job struct {
	a       *Assigner
	ctx     context.Context
	owner   string
	held    map[Key]bool
	claimed map[Key]bool
}

func (j *job) clusterIP(svc *corev1.Service) (field.ErrorList, error) {
	spec := &svc.Spec
	if !needsClusterIP(svc) || spec.ClusterIP == corev1.ClusterIPNone {
		return nil, nil
	}
	if spec.ClusterIP == "" {
		ip, err := j.pickIP()
		if err != nil {
			return nil, fmt.Errorf("failed to allocate a serviceIP: %w", err)
		}
		spec.ClusterIP, spec.ClusterIPs = ip.String(), []string{ip.String()}
		return nil, nil
	}
	if j.held[IPKey(spec.ClusterIP)] {
		return nil, nil
	}
	msg, err := j.checkIP(spec.ClusterIP)
	if err != nil || msg == "" {
		return nil, err
	}
	return field.ErrorList{field.Invalid(field.NewPath("spec", "clusterIPs"), spec.ClusterIPs,
		fmt.Sprintf("failed to allocate IP %s: %s", spec.ClusterIP, msg))}, nil
}

// checkIP says why a requested IP cannot be had, "" when it can.
func (j *job) checkIP(s string) (string, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || !j.a.IPs.Contains(ip) {
		return "provided IP is not in the valid range. The range of valid IPs is " + j.a.IPs.String(), nil
	}
	if ip == j.a.IPs.First() && j.owner != KubernetesService {
		return "provided IP is already allocated", nil
	}
	return j.free(IPKey(s), "provided IP is already allocated")
}

// free returns taken when k belongs to another service.
func (j *job) free(k Key, taken string) (string, error) {
	owner, err := j.a.View.Owner(j.ctx, k)
	if err != nil {
		return "", err
	}
	if owner != "" && owner != j.owner {
		return taken, nil
	}
	j.claimed[k] = true
	return "", nil
}

func (j *job) pickIP() (netip.Addr, error) {
	r := j.a.IPs
	k, err := j.pick(r.dynamic(), func(i uint64) Key { return IPKey(r.dynamicAt(i).String()) }, "ip/")
	if err != nil {
		return netip.Addr{}, err
	}
	return netip.MustParseAddr(string(k[len("ip/"):])), nil
}

func (j *job) pickPort() (int32, error) {
	r := j.a.Ports
	k, err := j.pick(uint64(r.Size), func(i uint64) Key { return PortKey(int32(r.Base + int(i))) }, "port/")
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(string(k[len("port/"):]))
	return int32(n), nil
}

// pick claims a free item of n: random tries first, then a scan of what is
// held, so a nearly full range still finds its last free items.
func (j *job) pick(n uint64, item func(uint64) Key, prefix string) (Key, error) {
	for range randomTries {
		k := item(j.a.Rand(n))
		if j.claimed[k] {
			continue
		}
		owner, err := j.a.View.Owner(j.ctx, k)
		if err != nil {
			return "", err
		}
		if owner == "" {
			j.claimed[k] = true
			return k, nil
		}
	}
	taken, err := j.a.View.List(j.ctx, prefix)
	if err != nil {
		return "", err
	}
	start := j.a.Rand(n)
	for i := range n {
		k := item((start + i) % n)
		if taken[k] == "" && !j.claimed[k] {
			j.claimed[k] = true
			return k, nil
		}
	}
	return "", ErrFull
}
