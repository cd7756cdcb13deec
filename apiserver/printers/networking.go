package printers

import (
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// networkPolicyPrinter has kube-apiserver's NetworkPolicy columns.
func networkPolicyPrinter() Printer {
	doc := networkingv1.NetworkPolicySpec{}.SwaggerDoc()
	return typed[*networkingv1.NetworkPolicy]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Pod-Selector", doc["podSelector"]), ageColumn()},
		cells: func(np *networkingv1.NetworkPolicy, now time.Time) []interface{} {
			return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), age(np.CreationTimestamp, now)}
		},
	}
}

// ingressPrinter has kube-apiserver's Ingress columns: the class, the rules'
// hosts ("*" for a rule without one), the load balancer's addresses and
// the ports (443 too with TLS).
func ingressPrinter() Printer {
	doc := networkingv1.IngressSpec{}.SwaggerDoc()
	return typed[*networkingv1.Ingress]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Class", doc["ingressClassName"]),
			column("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
			column("Address", "Address is a list containing ingress points for the load-balancer"),
			column("Ports", "Ports of TLS configurations that open"), ageColumn()},
		cells: func(ing *networkingv1.Ingress, now time.Time) []interface{} {
			class := none
			if ing.Spec.IngressClassName != nil {
				class = *ing.Spec.IngressClassName
			}
			ports := "80"
			if len(ing.Spec.TLS) > 0 {
				ports = "80, 443"
			}
			return []interface{}{ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddresses(ing.Status.LoadBalancer.Ingress),
				ports, age(ing.CreationTimestamp, now)}
		},
	}
}

func ingressHosts(rules []networkingv1.IngressRule) string {
	var hosts []string
	for _, r := range rules {
		hosts = append(hosts, orDefault(r.Host, "*"))
	}
	if len(hosts) == 0 {
		return "*"
	}
	return listWithMore(hosts)
}

func ingressAddresses(lbs []networkingv1.IngressLoadBalancerIngress) string {
	var out []string
	for _, lb := range lbs {
		if lb.IP != "" {
			out = append(out, lb.IP)
		} else if lb.Hostname != "" {
			out = append(out, lb.Hostname)
		}
	}
	return strings.Join(out, ",")
}

// ingressClassPrinter has kube-apiserver's IngressClass columns; the
// parameters read Kind.group/name.
func ingressClassPrinter() Printer {
	doc := networkingv1.IngressClassSpec{}.SwaggerDoc()
	return typed[*networkingv1.IngressClass]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Controller", doc["controller"]),
			column("Parameters", doc["parameters"]), ageColumn()},
		cells: func(ic *networkingv1.IngressClass, now time.Time) []interface{} {
			params := none
			if p := ic.Spec.Parameters; p != nil {
				params = p.Kind
				if p.APIGroup != nil {
					params += "." + *p.APIGroup
				}
				params += "/" + p.Name
			}
			return []interface{}{ic.Name, ic.Spec.Controller, params, age(ic.CreationTimestamp, now)}
		},
	}
}

// serviceCIDRPrinter has kube-apiserver's ServiceCIDR columns.
func serviceCIDRPrinter() Printer {
	doc := networkingv1.ServiceCIDRSpec{}.SwaggerDoc()
	return typed[*networkingv1.ServiceCIDR]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("CIDRs", doc["cidrs"]), ageColumn()},
		cells: func(sc *networkingv1.ServiceCIDR, now time.Time) []interface{} {
			return []interface{}{sc.Name, strings.Join(sc.Spec.CIDRs, ","), age(sc.CreationTimestamp, now)}
		},
	}
}

// ipAddressPrinter has kube-apiserver's IPAddress columns: the parent as
// resource.group/namespace/name.
func ipAddressPrinter() Printer {
	doc := networkingv1.IPAddressSpec{}.SwaggerDoc()
	return typed[*networkingv1.IPAddress]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("ParentRef", doc["parentRef"])},
		cells: func(ip *networkingv1.IPAddress, _ time.Time) []interface{} {
			parent := none
			if r := ip.Spec.ParentRef; r != nil {
				parent = strings.ToLower(schema.GroupResource{Group: r.Group, Resource: r.Resource}.String()) + "/"
				if r.Namespace != "" {
					parent += r.Namespace + "/"
				}
				parent += r.Name
			}
			return []interface{}{ip.Name, parent}
		},
	}
}

// podDisruptionBudgetPrinter has kube-apiserver's PodDisruptionBudget
// columns; "N/A" for a bound that is not set.
func podDisruptionBudgetPrinter() Printer {
	doc := policyv1.PodDisruptionBudgetSpec{}.SwaggerDoc()
	allowed := column("Allowed Disruptions", policyv1.PodDisruptionBudgetStatus{}.SwaggerDoc()["disruptionsAllowed"])
	allowed.Type = "integer"
	return typed[*policyv1.PodDisruptionBudget]{
		columns: []metav1.TableColumnDefinition{nameColumn(), column("Min Available", doc["minAvailable"]),
			column("Max Unavailable", doc["maxUnavailable"]), allowed, ageColumn()},
		cells: func(p *policyv1.PodDisruptionBudget, now time.Time) []interface{} {
			return []interface{}{p.Name, intOrNA(p.Spec.MinAvailable), intOrNA(p.Spec.MaxUnavailable),
				int64(p.Status.DisruptionsAllowed), age(p.CreationTimestamp, now)}
		},
	}
}

func intOrNA(v *intstr.IntOrString) string {
	if v == nil {
		return "N/A"
	}
	return v.String()
}
