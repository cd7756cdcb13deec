package endpointslice

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// ManagedBy is the managed-by label value of the slices this
	// controller owns (kube's endpointslice controller's).
	ManagedBy = "endpointslice-controller.k8s.io"
	// MaxEndpointsPerSlice is kube's default --max-endpoints-per-slice.
	MaxEndpointsPerSlice = 100
	labelHeadless        = "service.kubernetes.io/headless"
)

// Actions are the writes that turn the existing slices into the desired
// ones. Updates are full objects (existing ones, changed); creates have a
// generateName.
type Actions struct {
	Create []*discoveryv1.EndpointSlice
	Update []*discoveryv1.EndpointSlice
	Delete []*discoveryv1.EndpointSlice
}

// Empty reports whether nothing needs writing.
func (a Actions) Empty() bool { return len(a.Create)+len(a.Update)+len(a.Delete) == 0 }

// Plan compares the desired groups with the service's existing managed
// slices. Slices are stable: an endpoint stays in the slice that holds it,
// new endpoints fill slices with room, then slices of port sets that are
// gone are reused, and only then are slices created; slices left empty go.
// A service with no endpoints keeps one empty placeholder slice.
func Plan(svc *corev1.Service, groups []Group, existing []*discoveryv1.EndpointSlice, max int) Actions {
	p := &planner{svc: svc, max: max, bySig: map[string][]*discoveryv1.EndpointSlice{}}
	wanted := map[string]bool{}
	for _, g := range groups {
		wanted[portSignature(g.Ports)] = true
	}
	for _, s := range sortedSlices(existing) {
		sig := portSignature(s.Ports)
		if wanted[sig] {
			p.bySig[sig] = append(p.bySig[sig], s)
		} else {
			p.spare = append(p.spare, s)
		}
	}
	if len(groups) == 0 {
		groups = []Group{{}} // the placeholder
	}
	for _, g := range groups {
		p.group(g)
	}
	p.out.Delete = append(p.out.Delete, p.spare...)
	return p.out
}

type planner struct {
	svc   *corev1.Service
	max   int
	bySig map[string][]*discoveryv1.EndpointSlice
	spare []*discoveryv1.EndpointSlice // slices of port sets no longer wanted
	out   Actions
}

func (p *planner) group(g Group) {
	want := map[string]discoveryv1.Endpoint{}
	for _, ep := range g.Endpoints {
		want[endpointKey(ep)] = ep
	}
	var slices [][]discoveryv1.Endpoint
	olds := p.bySig[portSignature(g.Ports)]
	for _, s := range olds {
		var keep []discoveryv1.Endpoint
		for _, ep := range s.Endpoints {
			if w, ok := want[endpointKey(ep)]; ok {
				keep = append(keep, w)
				delete(want, endpointKey(ep))
			}
		}
		slices = append(slices, keep)
	}
	var rest []discoveryv1.Endpoint
	for _, ep := range g.Endpoints {
		if _, ok := want[endpointKey(ep)]; ok {
			rest = append(rest, ep)
		}
	}
	for i := range slices {
		n := min(p.max-len(slices[i]), len(rest))
		slices[i], rest = append(slices[i], rest[:n]...), rest[n:]
	}
	for i, s := range olds {
		p.write(s, g.Ports, slices[i], len(g.Endpoints) == 0 && i == 0)
	}
	for len(rest) > 0 || (len(g.Endpoints) == 0 && len(olds) == 0) {
		n := min(p.max, len(rest))
		p.place(g.Ports, rest[:n])
		rest = rest[n:]
		if n == 0 {
			break
		}
	}
}

// write updates s to hold eps, or deletes it when it ends up empty (unless
// it is the placeholder).
func (p *planner) write(s *discoveryv1.EndpointSlice, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint, placeholder bool) {
	if len(eps) == 0 && !placeholder {
		p.out.Delete = append(p.out.Delete, s)
		return
	}
	next := s.DeepCopy()
	p.fill(next, ports, eps)
	if !sameSlice(next, s) {
		p.out.Update = append(p.out.Update, next)
	}
}

// place puts eps into a spare slice (written only if that changes it), or
// a new one.
func (p *planner) place(ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint) {
	if len(p.spare) > 0 {
		s := p.spare[0]
		p.spare = p.spare[1:]
		next := s.DeepCopy()
		p.fill(next, ports, eps)
		if !sameSlice(next, s) {
			p.out.Update = append(p.out.Update, next)
		}
		return
	}
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{GenerateName: p.svc.Name + "-", Namespace: p.svc.Namespace}}
	p.fill(s, ports, eps)
	p.out.Create = append(p.out.Create, s)
}

func (p *planner) fill(s *discoveryv1.EndpointSlice, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint) {
	s.Labels = sliceLabels(p.svc)
	s.OwnerReferences = []metav1.OwnerReference{ownerRef(p.svc)}
	s.AddressType = discoveryv1.AddressTypeIPv4
	s.Ports = ports
	s.Endpoints = eps
}

// sliceLabels: the service's labels, then the service name and manager,
// and the headless mark (as kube's controller sets them).
func sliceLabels(svc *corev1.Service) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Labels {
		out[k] = v
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ManagedBy
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		out[labelHeadless] = ""
	} else {
		delete(out, labelHeadless)
	}
	return out
}

func ownerRef(svc *corev1.Service) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
		Controller: &yes, BlockOwnerDeletion: &yes}
}

func sameSlice(a, b *discoveryv1.EndpointSlice) bool {
	return a.AddressType == b.AddressType &&
		apiequality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		apiequality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences) &&
		apiequality.Semantic.DeepEqual(a.Ports, b.Ports) &&
		apiequality.Semantic.DeepEqual(a.Endpoints, b.Endpoints)
}

// endpointKey identifies an endpoint across syncs: its pod, else its
// address.
func endpointKey(ep discoveryv1.Endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.UID != "" {
		return "uid:" + string(ep.TargetRef.UID)
	}
	if ep.TargetRef != nil {
		return "pod:" + ep.TargetRef.Namespace + "/" + ep.TargetRef.Name
	}
	if len(ep.Addresses) > 0 {
		return "ip:" + ep.Addresses[0]
	}
	return ""
}

func sortedSlices(in []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	out := append([]*discoveryv1.EndpointSlice(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
