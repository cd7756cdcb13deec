package apiserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/proxy"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// streamSubresources are the pods subresources that are upgraded
// connections to the node's agent, and the agent's path for each.
var streamSubresources = map[string]string{"exec": "exec", "attach": "attach", "portforward": "portForward"}

// servePodStream proxies pods/<name>/exec, attach and portforward to the
// agent of the pod's node, as kube-apiserver does: the connection is
// upgraded end to end (SPDY, or WebSocket which the agent speaks too), the
// agent's certificate verified, the server's kubelet-client identity
// presented, no redirect followed. A GET (the WebSocket handshake) must be
// allowed to create the subresource too, as kube asks since 1.35.
func (s *Server) servePodStream(q *request) error {
	if err := s.authorizeStreamCreate(q); err != nil {
		return err
	}
	obj, err := s.store(q.res).Get(q.ctx, q.info.namespace, q.info.name)
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	target, err := s.streamTarget(q, pod)
	if err != nil {
		return err
	}
	h := proxy.NewUpgradeAwareHandler(target, s.nodeAgentsClient.Transport, false, true, streamResponder{s: s, q: q})
	h.UseLocationHost = true
	h.RejectForwardingRedirects = true
	h.ServeHTTP(q.w, agentRequest(q.r))
	return nil
}

// authorizeStreamCreate: a GET of a stream subresource also needs create.
func (s *Server) authorizeStreamCreate(q *request) error {
	if q.info.verb != "get" {
		return nil
	}
	at := auth.Attributes{User: q.user, Verb: "create", Resource: q.info.resource, Subresource: q.info.subresource,
		Namespace: q.info.namespace, Name: q.info.name, ResourceRequest: true, Path: q.info.path}
	ok, reason, err := s.authz.Authorize(q.ctx, at)
	if err != nil || !ok {
		return forbidden(err, reason, q.gr(), q.info.name)
	}
	return nil
}

// streamTarget is the agent URL for the request: its path names the pod
// (and container), its query carries only what the agent needs.
func (s *Server) streamTarget(q *request, pod *corev1.Pod) (*url.URL, error) {
	in := q.r.URL.Query()
	var parts []string
	var query url.Values
	var err error
	if q.info.subresource == "portforward" {
		parts = []string{"portForward", pod.Namespace, pod.Name}
		query, err = portForwardQuery(in)
	} else {
		var container string
		if container, err = streamContainer(pod, in.Get("container")); err == nil {
			parts = []string{streamSubresources[q.info.subresource], pod.Namespace, pod.Name, container}
			query, err = remoteCommandQuery(q.info.subresource, in)
		}
	}
	if err != nil {
		return nil, err
	}
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	target, err := s.nodeEndpoint(q, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	target.Path, target.RawPath = agentPath(parts...)
	target.RawQuery = query.Encode()
	return target, nil
}

// streamContainer is kube's choice of container: the one named, which must
// be the pod's, or the only one.
func streamContainer(pod *corev1.Pod, name string) (string, error) {
	if name != "" {
		if !podHasContainer(pod, name) {
			return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
		}
		return name, nil
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	}
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
}

// remoteCommandQuery turns PodExecOptions or PodAttachOptions (stdin,
// stdout, stderr, tty, command) into the agent's parameters (input,
// output, error, tty, command), as kube-apiserver does.
func remoteCommandQuery(sub string, in url.Values) (url.Values, error) {
	out := url.Values{}
	for _, f := range []struct{ from, to string }{{"stdin", "input"}, {"stdout", "output"}, {"stderr", "error"}, {"tty", "tty"}} {
		on, err := boolParam(in, f.from)
		if err != nil {
			return nil, err
		}
		if on {
			out.Set(f.to, "1")
		}
	}
	if sub == "exec" {
		if len(in["command"]) == 0 {
			return nil, apierrors.NewBadRequest("you must specify at least one command for the container")
		}
		out["command"] = in["command"]
	}
	return out, nil
}

func boolParam(in url.Values, name string) (bool, error) {
	v := in.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apierrors.NewBadRequest(fmt.Sprintf("%s: %q is not a boolean", name, v))
	}
	return b, nil
}

// portForwardQuery passes PodPortForwardOptions' ports (each 1 to 65535)
// as the agent's port parameters.
func portForwardQuery(in url.Values) (url.Values, error) {
	out := url.Values{}
	for _, p := range in["ports"] {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("ports: %q is not a port number (1 to 65535)", p))
		}
		out.Add("port", strconv.FormatUint(n, 10))
	}
	return out, nil
}

// agentRequest is the client's request as the agent gets it: the client's
// credentials (the agent sees the server's own identity) and impersonation
// headers are dropped.
func agentRequest(r *http.Request) *http.Request {
	out := r.Clone(r.Context())
	for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		out.Header.Del(h)
	}
	for h := range out.Header {
		if len(h) > len("Impersonate-") && http.CanonicalHeaderKey(h[:len("Impersonate-")]) == "Impersonate-" {
			out.Header.Del(h)
		}
	}
	return out
}

// streamResponder answers a failure to reach the agent as the log proxy
// does: 503 naming the cause (an x509 failure, a refused connection).
type streamResponder struct {
	s *Server
	q *request
}

func (r streamResponder) Error(w http.ResponseWriter, _ *http.Request, err error) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		err = apierrors.NewServiceUnavailable(fmt.Sprintf("cannot reach the node agent: %v", err))
	}
	r.s.writeError(w, err, r.q.gr(), r.q.info.name)
}
