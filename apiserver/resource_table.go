package apiserver

import (
	"reflect"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

// resources is the table of everything nodeagent serves.
func resources() []*resource {
	return []*resource{
		{gvk: coreV1.WithKind("Namespace"), plural: "namespaces", singular: "namespace", shortNames: []string{"ns"},
			subresources: []string{"status", "finalize"},
			// kube serves no deletecollection of namespaces
			verbs:  metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"},
			newObj: func() runtime.Object { return &corev1.Namespace{} }, newList: func() runtime.Object { return &corev1.NamespaceList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.Namespace), validate: typedV(validation.Namespace),
				validateUpdate: updateAsCreate(validation.Namespace), prepareCreate: typed(prepareNamespace)}),
			fieldLabels: []string{"status.phase"}, fieldSet: typedF(namespaceFields)},
		{gvk: coreV1.WithKind("Pod"), plural: "pods", singular: "pod", shortNames: []string{"po"}, categories: []string{"all"},
			namespaced: true, subresources: []string{"status", "binding", "log", "exec", "attach", "portforward"},
			newObj: func() runtime.Object { return &corev1.Pod{} }, newList: func() runtime.Object { return &corev1.PodList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.Pod), validate: typedV(validation.Pod),
				validateUpdate: typedU(podUpdate), prepareCreate: typed(preparePod),
				prepareStatusUpdate: typedPair(preparePodStatusUpdate)}),
			fieldLabels: []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
				"spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
			fieldSet: typedF(podFields)},
		{gvk: coreV1.WithKind("Service"), plural: "services", singular: "service", shortNames: []string{"svc"}, categories: []string{"all"},
			namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &corev1.Service{} }, newList: func() runtime.Object { return &corev1.ServiceList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.Service), validate: typedV(validation.Service),
				validateUpdate: typedU(validation.ServiceUpdate), prepareCreate: typed(func(s *corev1.Service) { s.Status = corev1.ServiceStatus{} })}),
			fieldLabels: []string{"spec.clusterIP", "spec.type"}, fieldSet: typedF(serviceFields)},
		{gvk: coreV1.WithKind("Endpoints"), plural: "endpoints", singular: "endpoints", shortNames: []string{"ep"}, namespaced: true,
			newObj: func() runtime.Object { return &corev1.Endpoints{} }, newList: func() runtime.Object { return &corev1.EndpointsList{} },
			strategy: strategy{defaults: typed(defaults.Endpoints), validate: typedV(validation.Endpoints), validateUpdate: updateAsCreate(validation.Endpoints)}},
		{gvk: coreV1.WithKind("Node"), plural: "nodes", singular: "node", shortNames: []string{"no"},
			subresources: []string{"status"},
			newObj:       func() runtime.Object { return &corev1.Node{} }, newList: func() runtime.Object { return &corev1.NodeList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.Node), validate: typedV(validation.Node),
				validateUpdate: typedU(nodeUpdate)}),
			fieldLabels: []string{"spec.unschedulable"}, fieldSet: typedF(nodeFields)},
		{gvk: coreV1.WithKind("ConfigMap"), plural: "configmaps", singular: "configmap", shortNames: []string{"cm"}, namespaced: true,
			newObj: func() runtime.Object { return &corev1.ConfigMap{} }, newList: func() runtime.Object { return &corev1.ConfigMapList{} },
			strategy: strategy{defaults: typed(defaults.ConfigMap), validate: typedV(validation.ConfigMap), validateUpdate: typedU(validation.ConfigMapUpdate)}},
		{gvk: coreV1.WithKind("Secret"), plural: "secrets", singular: "secret", namespaced: true,
			newObj: func() runtime.Object { return &corev1.Secret{} }, newList: func() runtime.Object { return &corev1.SecretList{} },
			strategy:    strategy{defaults: typed(defaults.Secret), validate: typedV(validation.Secret), validateUpdate: typedU(validation.SecretUpdate)},
			fieldLabels: []string{"type"}, fieldSet: typedF(func(s *corev1.Secret) fields.Set { return fields.Set{"type": string(s.Type)} })},
		{gvk: coreV1.WithKind("Event"), plural: "events", singular: "event", shortNames: []string{"ev"}, namespaced: true,
			newObj: func() runtime.Object { return &corev1.Event{} }, newList: func() runtime.Object { return &corev1.EventList{} },
			strategy: strategy{defaults: typed(defaults.Event), validate: typedV(validation.Event), validateUpdate: updateAsCreate(validation.Event)},
			fieldLabels: []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
				"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
			fieldSet: typedF(eventFields)},
		{gvk: coreV1.WithKind("ServiceAccount"), plural: "serviceaccounts", singular: "serviceaccount", shortNames: []string{"sa"}, namespaced: true,
			subresources: []string{"token"},
			newObj:       func() runtime.Object { return &corev1.ServiceAccount{} }, newList: func() runtime.Object { return &corev1.ServiceAccountList{} },
			strategy: strategy{defaults: typed(defaults.ServiceAccount), validate: typedV(validation.ServiceAccount), validateUpdate: updateAsCreate(validation.ServiceAccount)}},
		{gvk: coreV1.WithKind("PersistentVolume"), plural: "persistentvolumes", singular: "persistentvolume", shortNames: []string{"pv"},
			subresources: []string{"status"},
			newObj:       func() runtime.Object { return &corev1.PersistentVolume{} }, newList: func() runtime.Object { return &corev1.PersistentVolumeList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.PersistentVolume), validate: typedV(validation.PersistentVolume),
				validateUpdate: updateAsCreate(validation.PersistentVolume),
				prepareCreate: typed(func(pv *corev1.PersistentVolume) {
					pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
				})})},
		{gvk: coreV1.WithKind("PersistentVolumeClaim"), plural: "persistentvolumeclaims", singular: "persistentvolumeclaim", shortNames: []string{"pvc"},
			namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &corev1.PersistentVolumeClaim{} }, newList: func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.PersistentVolumeClaim), validate: typedV(validation.PersistentVolumeClaim),
				validateUpdate: typedU(validation.PersistentVolumeClaimUpdate),
				prepareCreate: typed(func(c *corev1.PersistentVolumeClaim) {
					c.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
				})})},
		{gvk: discoveryV1.WithKind("EndpointSlice"), plural: "endpointslices", singular: "endpointslice", namespaced: true,
			newObj: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, newList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
			strategy: strategy{defaults: typed(defaults.EndpointSlice), validate: typedV(validation.EndpointSlice), validateUpdate: updateAsCreate(validation.EndpointSlice)}},
		{gvk: coordinationV1.WithKind("Lease"), plural: "leases", singular: "lease", namespaced: true,
			newObj: func() runtime.Object { return &coordinationv1.Lease{} }, newList: func() runtime.Object { return &coordinationv1.LeaseList{} },
			strategy: strategy{defaults: typed(defaults.Lease), validate: typedV(validation.Lease), validateUpdate: updateAsCreate(validation.Lease)}},
	}
}

// podUpdate validates a pod update: the rules for any pod, then what may
// change.
func podUpdate(p, old *corev1.Pod) field.ErrorList {
	return append(validation.Pod(p), validation.PodUpdate(p, old)...)
}

// nodeUpdate validates an update of a node: the rules for any node, then
// what may change.
func nodeUpdate(n, old *corev1.Node) field.ErrorList {
	return append(validation.Node(n), validation.NodeUpdate(n, old)...)
}

// preparePodStatusUpdate is kube's pod status strategy beyond keeping the
// spec: the status subresource may not touch ownerReferences (the garbage
// collector's), and a status that lost its QoS class keeps the old one.
// Labels, annotations and finalizers may change, as in kube; a node may not
// change labels this way (its admission).
func preparePodStatusUpdate(p, old *corev1.Pod) {
	p.OwnerReferences = old.OwnerReferences
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = old.Status.QOSClass
	}
}

func preparePod(p *corev1.Pod) {
	p.Status = corev1.PodStatus{Phase: corev1.PodPending}
}

func prepareNamespace(ns *corev1.Namespace) {
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if len(ns.Spec.Finalizers) == 0 {
		ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["kubernetes.io/metadata.name"] = ns.Name
}

func podFields(p *corev1.Pod) fields.Set {
	return fields.Set{"spec.nodeName": p.Spec.NodeName, "spec.restartPolicy": string(p.Spec.RestartPolicy),
		"spec.schedulerName": p.Spec.SchedulerName, "spec.serviceAccountName": p.Spec.ServiceAccountName,
		"spec.hostNetwork": boolString(p.Spec.HostNetwork), "status.phase": string(p.Status.Phase),
		"status.podIP": p.Status.PodIP, "status.nominatedNodeName": p.Status.NominatedNodeName}
}

func serviceFields(s *corev1.Service) fields.Set {
	return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
}

func nodeFields(n *corev1.Node) fields.Set {
	return fields.Set{"spec.unschedulable": boolString(n.Spec.Unschedulable)}
}

func namespaceFields(n *corev1.Namespace) fields.Set {
	return fields.Set{"status.phase": string(n.Status.Phase)}
}

func eventFields(e *corev1.Event) fields.Set {
	o := e.InvolvedObject
	return fields.Set{"involvedObject.kind": o.Kind, "involvedObject.namespace": o.Namespace, "involvedObject.name": o.Name,
		"involvedObject.uid": string(o.UID), "involvedObject.apiVersion": o.APIVersion, "involvedObject.resourceVersion": o.ResourceVersion,
		"involvedObject.fieldPath": o.FieldPath, "reason": e.Reason, "reportingComponent": e.ReportingController,
		"source": e.Source.Component, "type": e.Type}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// typed adapts a function on a concrete type to runtime.Object.
func typed[T runtime.Object](f func(T)) func(runtime.Object) {
	return func(o runtime.Object) { f(o.(T)) }
}

func typedV[T runtime.Object](f func(T) field.ErrorList) func(runtime.Object) field.ErrorList {
	return func(o runtime.Object) field.ErrorList { return f(o.(T)) }
}

func typedU[T runtime.Object](f func(T, T) field.ErrorList) func(runtime.Object, runtime.Object) field.ErrorList {
	return func(o, old runtime.Object) field.ErrorList { return f(o.(T), old.(T)) }
}

func typedPair[T runtime.Object](f func(T, T)) func(runtime.Object, runtime.Object) {
	return func(o, old runtime.Object) { f(o.(T), old.(T)) }
}

func typedF[T runtime.Object](f func(T) fields.Set) func(runtime.Object) fields.Set {
	return func(o runtime.Object) fields.Set { return f(o.(T)) }
}

// updateAsCreate validates an update with the create rules and kube's
// rules for any metadata update (name, namespace, uid and timestamps stay;
// no new finalizer once the object is being deleted).
func updateAsCreate[T runtime.Object](f func(T) field.ErrorList) func(runtime.Object, runtime.Object) field.ErrorList {
	return func(o, old runtime.Object) field.ErrorList {
		m, err := meta.Accessor(o)
		om, oldErr := meta.Accessor(old)
		if err != nil || oldErr != nil {
			return f(o.(T))
		}
		return append(validation.ObjectMetaAccessorUpdate(m, om), f(o.(T))...)
	}
}

// withStatus gives a strategy the status rules: the object's own update
// keeps the stored status, a status update keeps the stored spec (a
// finalize update takes only spec.finalizers... which is the spec).
func withStatus(st strategy) strategy {
	st.hasStatus = true
	st.keepStatus = func(obj, old runtime.Object) { copyField(obj, old, "Status") }
	st.keepSpec = func(obj, old runtime.Object) { copyField(obj, old, "Spec") }
	st.specChanged = func(obj, old runtime.Object) bool {
		return !reflect.DeepEqual(fieldOf(obj, "Spec"), fieldOf(old, "Spec"))
	}
	return st
}

// copyField sets dst.<name> to a deep copy of src.<name>.
func copyField(dst, src runtime.Object, name string) {
	d := reflect.ValueOf(dst).Elem().FieldByName(name)
	s := reflect.ValueOf(src.DeepCopyObject()).Elem().FieldByName(name)
	if d.IsValid() && s.IsValid() {
		d.Set(s)
	}
}

func fieldOf(obj runtime.Object, name string) any {
	v := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}
