package apiserver

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/defaults"
	"github.com/nodeagent/nodeagent/api/validation"
)

var appsV1 = appsv1.SchemeGroupVersion

// appsResources are the apps/v1 workloads, with kube's names, defaults,
// validation and subresources (scale for the replicated kinds).
func appsResources() []*resource {
	return []*resource{
		{gvk: appsV1.WithKind("Deployment"), plural: "deployments", singular: "deployment", shortNames: []string{"deploy"},
			categories: []string{"all"}, namespaced: true, subresources: []string{"status", "scale"},
			newObj: func() runtime.Object { return &appsv1.Deployment{} }, newList: func() runtime.Object { return &appsv1.DeploymentList{} },
			strategy: deploymentStrategy(withStatus(strategy{defaults: typed(defaults.Deployment), validate: typedV(validation.Deployment),
				validateUpdate: typedU(validation.DeploymentUpdate),
				prepareCreate:  typed(func(d *appsv1.Deployment) { d.Status = appsv1.DeploymentStatus{} })}))},
		{gvk: appsV1.WithKind("ReplicaSet"), plural: "replicasets", singular: "replicaset", shortNames: []string{"rs"},
			categories: []string{"all"}, namespaced: true, subresources: []string{"status", "scale"},
			newObj: func() runtime.Object { return &appsv1.ReplicaSet{} }, newList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.ReplicaSet), validate: typedV(validation.ReplicaSet),
				validateUpdate: typedU(validation.ReplicaSetUpdate),
				prepareCreate:  typed(func(rs *appsv1.ReplicaSet) { rs.Status = appsv1.ReplicaSetStatus{} })}),
			fieldLabels: []string{"status.replicas"}, fieldSet: typedF(func(rs *appsv1.ReplicaSet) fields.Set {
				return fields.Set{"status.replicas": strconv.Itoa(int(rs.Status.Replicas))}
			})},
		{gvk: appsV1.WithKind("StatefulSet"), plural: "statefulsets", singular: "statefulset", shortNames: []string{"sts"},
			categories: []string{"all"}, namespaced: true, subresources: []string{"status", "scale"},
			newObj: func() runtime.Object { return &appsv1.StatefulSet{} }, newList: func() runtime.Object { return &appsv1.StatefulSetList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.StatefulSet), validate: typedV(validation.StatefulSet),
				validateUpdate: typedU(validation.StatefulSetUpdate),
				prepareCreate:  typed(func(ss *appsv1.StatefulSet) { ss.Status = appsv1.StatefulSetStatus{} })})},
		{gvk: appsV1.WithKind("DaemonSet"), plural: "daemonsets", singular: "daemonset", shortNames: []string{"ds"},
			categories: []string{"all"}, namespaced: true, subresources: []string{"status"},
			newObj: func() runtime.Object { return &appsv1.DaemonSet{} }, newList: func() runtime.Object { return &appsv1.DaemonSetList{} },
			strategy: withStatus(strategy{defaults: typed(defaults.DaemonSet), validate: typedV(validation.DaemonSet),
				validateUpdate: typedU(validation.DaemonSetUpdate),
				prepareCreate:  typed(func(ds *appsv1.DaemonSet) { ds.Status = appsv1.DaemonSetStatus{} })})},
		{gvk: appsV1.WithKind("ControllerRevision"), plural: "controllerrevisions", singular: "controllerrevision", namespaced: true,
			newObj: func() runtime.Object { return &appsv1.ControllerRevision{} }, newList: func() runtime.Object { return &appsv1.ControllerRevisionList{} },
			strategy: strategy{defaults: typed(defaults.ControllerRevision), validate: typedV(validation.ControllerRevision),
				validateUpdate: typedU(validation.ControllerRevisionUpdate)}},
	}
}

// deploymentStrategy adds kube's rule that a Deployment's generation also
// follows its annotations, which its controller copies to its ReplicaSets.
func deploymentStrategy(st strategy) strategy {
	specChanged := st.specChanged
	st.specChanged = func(obj, old runtime.Object) bool {
		d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
		return specChanged(obj, old) || !equality.Semantic.DeepEqual(d.Annotations, o.Annotations)
	}
	return st
}
