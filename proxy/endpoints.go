package proxy

// ClusterEndpoints are the endpoints traffic to the cluster IP may reach:
// the ready ones (only this node's with InternalLocal), or, when none is
// ready, the serving terminating ones, so that connections keep working
// while a rollout finishes. Empty means "reject".
func ClusterEndpoints(sp *ServicePort, eps []Endpoint) []Endpoint {
	return usable(eps, sp.InternalLocal)
}

// ExternalEndpoints are the endpoints traffic to a node port, an external
// IP or a load-balancer IP may reach: as ClusterEndpoints, but only this
// node's with ExternalLocal. With ExternalLocal, an empty result means
// "drop" (kube-proxy drops such traffic rather than rejecting it).
func ExternalEndpoints(sp *ServicePort, eps []Endpoint) []Endpoint {
	return usable(eps, sp.ExternalLocal)
}

// usable's result may share eps's array (when every endpoint is usable
// and ready, the common case, it is eps): callers only read it.
func usable(eps []Endpoint, localOnly bool) []Endpoint {
	all := true
	for _, e := range eps {
		if !e.Ready || (localOnly && !e.Local) {
			all = false
			break
		}
	}
	if all {
		return eps[:len(eps):len(eps)]
	}
	var ready, terminating []Endpoint
	for _, e := range eps {
		if localOnly && !e.Local {
			continue
		}
		switch {
		case e.Ready:
			ready = append(ready, e)
		case e.Serving && e.Terminating:
			terminating = append(terminating, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// HasExternal says whether sp takes traffic from outside the cluster IP.
func (sp *ServicePort) HasExternal() bool {
	return sp.NodePort != 0 || len(sp.ExternalIPs) > 0 || len(sp.LoadBalancerIPs) > 0
}
