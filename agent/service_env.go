package agent

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/nodeagent/nodeagent/internal/kubecache"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// A container's environment holds, as kubelet gives it, the Service
// variables of the kubernetes Service (always) and of every Service of the
// pod's namespace (with enableServiceLinks, the default):
// NAME_SERVICE_HOST, NAME_SERVICE_PORT, NAME_SERVICE_PORT_<PORT NAME>, and
// Docker's link variables NAME_PORT, NAME_PORT_<port>_<PROTO>{,_PROTO,
// _PORT,_ADDR}. Variables the container defines win; its env values may
// refer to them as $(NAME).

// errServicesNotSynced is kubelet's refusal to build an API pod's
// environment before the Services were listed once (a missing
// KUBERNETES_SERVICE_HOST breaks in-cluster clients).
var errServicesNotSynced = errors.New("services have not yet been read at least once, cannot construct envvars")

// serviceCache is the agent's view of every Service (its own informer:
// the pods' informer selects by spec.nodeName).
type serviceCache struct {
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   corelisters.ServiceLister
}

func newServiceCache(client kubernetes.Interface) *serviceCache {
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, kubecache.Trimmed())
	svcs := f.Core().V1().Services()
	return &serviceCache{factory: f, informer: svcs.Informer(), lister: svcs.Lister()}
}

// serviceEnv is the Service variables a pod's containers get.
func (a *Agent) serviceEnv(pod *corev1.Pod) (map[string]string, error) {
	if !isStatic(pod) && !a.services.informer.HasSynced() {
		return nil, errServicesNotSynced
	}
	svcs, err := a.services.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	return serviceEnvVars(visibleServices(svcs, pod.Namespace, links)), nil
}

// visibleServices are the Services whose variables a pod of namespace ns
// gets: the kubernetes Service, and with links the namespace's, those with
// a cluster IP; a Service of ns named kubernetes wins over default's.
func visibleServices(svcs []*corev1.Service, ns string, links bool) []*corev1.Service {
	byName := map[string]*corev1.Service{}
	for _, s := range svcs {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		switch {
		case s.Namespace == ns && links:
			byName[s.Name] = s
		case s.Namespace == metav1.NamespaceDefault && s.Name == "kubernetes":
			if _, ok := byName[s.Name]; !ok {
				byName[s.Name] = s
			}
		}
	}
	out := make([]*corev1.Service, 0, len(byName))
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// serviceEnvVars are the variables of these Services.
func serviceEnvVars(svcs []*corev1.Service) map[string]string {
	m := map[string]string{}
	for _, s := range svcs {
		if len(s.Spec.Ports) == 0 {
			continue
		}
		prefix := envName(s.Name)
		ip := s.Spec.ClusterIP
		m[prefix+"_SERVICE_HOST"] = ip
		m[prefix+"_SERVICE_PORT"] = strconv.Itoa(int(s.Spec.Ports[0].Port))
		for i, p := range s.Spec.Ports {
			port := strconv.Itoa(int(p.Port))
			if p.Name != "" {
				m[prefix+"_SERVICE_PORT_"+envName(p.Name)] = port
			}
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			url := proto + "://" + net.JoinHostPort(ip, port)
			if i == 0 {
				m[prefix+"_PORT"] = url
			}
			pp := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(proto))
			m[pp] = url
			m[pp+"_PROTO"] = proto
			m[pp+"_PORT"] = port
			m[pp+"_ADDR"] = ip
		}
	}
	return m
}

// envName is a Service or port name as a variable name.
func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}
