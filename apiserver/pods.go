package apiserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// serveBinding binds a pod to a node (POST pods/<name>/binding), as the
// scheduler does: only a pod not yet bound can be bound.
func (s *Server) serveBinding(q *request) error {
	data, err := readBody(q.r)
	if err != nil {
		return err
	}
	b := &corev1.Binding{}
	if err := runtimeDecodeInto(s, q.r, data, b); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid Binding: %v", err))
	}
	if b.Target.Name == "" || (b.Target.Kind != "" && b.Target.Kind != "Node") {
		return apierrors.NewBadRequest("a binding needs a target of kind Node with a name")
	}
	_, err = s.store(q.res).Update(q.ctx, q.info.namespace, q.info.name, func(cur runtime.Object) (runtime.Object, error) {
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(q.gr(), q.info.name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", q.info.name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(q.gr(), q.info.name, fmt.Errorf("pod %s is already assigned to node %q", q.info.name, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		setCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(s.now())})
		return pod, nil
	})
	if err != nil {
		return statusError(err, q.gr(), q.info.name)
	}
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}
	s.codecs.writeObject(q.w, http.StatusCreated, st, q.out)
	return nil
}

func setCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// servePodLog proxies pods/<name>/log to the agent of the pod's node, found
// through the Node's status.addresses and daemonEndpoints.kubeletEndpoint.
func (s *Server) servePodLog(q *request) error {
	obj, err := s.store(q.res).Get(q.ctx, q.info.namespace, q.info.name)
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		return apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	if err := validateLogOptions(q.r.URL.Query(), pod.Name); err != nil {
		return err
	}
	container, err := logContainer(q, pod)
	if err != nil {
		return err
	}
	target, err := s.nodeEndpoint(q, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	target.Path, target.RawPath = agentPath("containerLogs", pod.Namespace, pod.Name, container)
	target.RawQuery = logOptions(q.r.URL.Query()).Encode()
	return s.proxy(q, target)
}

// logContainer is the container asked for, which must be one of the pod's
// (kube: 400 "container X is not valid for pod Y"), or the first one.
func logContainer(q *request, pod *corev1.Pod) (string, error) {
	name := q.r.URL.Query().Get("container")
	if name == "" && len(pod.Spec.Containers) > 0 {
		name = pod.Spec.Containers[0].Name
	}
	if name == "" || !podHasContainer(pod, name) {
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s: %s", name, pod.Name, strings.Join(errs, "; ")))
	}
	return name, nil
}

func podHasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// agentPath joins path parts, each escaped on its own: the decoded path and
// its escaped form (url.URL's Path and RawPath).
func agentPath(parts ...string) (string, string) {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = url.PathEscape(p)
	}
	return "/" + strings.Join(parts, "/"), "/" + strings.Join(escaped, "/")
}

// logOptionNames are the PodLogOptions the agent is given; nothing else of
// the client's query goes to the agent (insecureSkipTLSVerifyBackend is not
// honoured: the agent's certificate is always verified).
var logOptionNames = []string{"follow", "previous", "timestamps", "sinceSeconds", "sinceTime", "limitBytes", "tailLines"}

func logOptions(in url.Values) url.Values {
	out := url.Values{}
	for _, k := range logOptionNames {
		if v, ok := in[k]; ok && len(v) > 0 {
			out.Set(k, v[0])
		}
	}
	return out
}

func (s *Server) nodeEndpoint(q *request, nodeName string) (*url.URL, error) {
	res, _ := s.reg.lookup("", "v1", "nodes")
	obj, err := s.store(res).Get(q.ctx, "", nodeName)
	if err != nil {
		return nil, statusError(err, res.groupResource(), nodeName)
	}
	node := obj.(*corev1.Node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && port > 0 {
				return &url.URL{Scheme: "https", Host: net.JoinHostPort(a.Address, strconv.Itoa(int(port)))}, nil
			}
		}
	}
	return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has no address and agent port", nodeName))
}

// proxy streams the agent's answer back to the client; an answer other
// than 2xx becomes a Status, and a redirect is refused.
func (s *Server) proxy(q *request, target *url.URL) error {
	req, err := http.NewRequestWithContext(q.ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	resp, err := s.nodeAgentsClient.Do(req)
	if errors.Is(err, errRedirectsForbidden) {
		return apierrors.NewInternalError(err)
	}
	if err != nil {
		return apierrors.NewServiceUnavailable(fmt.Sprintf("cannot reach the node agent: %v", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < http.StatusOK || resp.StatusCode > http.StatusPartialContent {
		return agentError(resp, q.gr(), q.info.name)
	}
	q.w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	q.w.WriteHeader(resp.StatusCode)
	flushCopy(q.w, resp.Body)
	return nil
}

func flushCopy(w http.ResponseWriter, r io.Reader) {
	f, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if f != nil {
				f.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
