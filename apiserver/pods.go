package apiserver

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	target, err := s.nodeEndpoint(q, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	target.Path = fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, logContainer(q, pod))
	target.RawQuery = q.r.URL.RawQuery
	return s.proxy(q, target)
}

func logContainer(q *request, pod *corev1.Pod) string {
	if c := q.r.URL.Query().Get("container"); c != "" {
		return c
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
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

// proxy streams the agent's answer back to the client.
func (s *Server) proxy(q *request, target *url.URL) error {
	req, err := http.NewRequestWithContext(q.ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return err
	}
	resp, err := s.agentClient().Do(req)
	if err != nil {
		return apierrors.NewServiceUnavailable(fmt.Sprintf("cannot reach the node agent: %v", err))
	}
	defer resp.Body.Close()
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

// agentClient talks to node agents with the server's client certificate.
// Like kube-apiserver without --kubelet-certificate-authority, it does not
// verify the agents' self-signed serving certificates.
func (s *Server) agentClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, Certificates: s.agentClientCerts}}}
}
