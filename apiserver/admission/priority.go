package admission

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nodeagent/nodeagent/api/priority"
)

// PriorityClasses reads the stored PriorityClasses.
type PriorityClasses interface {
	// PriorityClass returns the named class; a missing one is an apierrors
	// NotFound.
	PriorityClass(ctx context.Context, name string) (*schedulingv1.PriorityClass, error)
	PriorityClasses(ctx context.Context) ([]*schedulingv1.PriorityClass, error)
}

var priorityClassesResource = schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}

// Priority is kube's Priority admission plugin. A new pod gets
// spec.priority and spec.preemptionPolicy from its priorityClassName, or
// from the global default class (whose name it then takes), else 0 and
// PreemptLowerPriority; a class that does not exist, or a priority or
// policy the client set that disagrees with the class, is refused. An
// update keeps the stored values the client left out. A PriorityClass may
// be the global default only while no other class is.
func Priority(ctx context.Context, a Attributes, classes PriorityClasses) error {
	if a.Subresource != "" {
		return nil
	}
	switch a.Resource {
	case podsResource:
		return admitPodPriority(ctx, a, classes)
	case priorityClassesResource:
		if a.Operation == Create || a.Operation == Update {
			return oneGlobalDefault(ctx, a, classes)
		}
		if _, builtin := priority.BuiltinValue(a.name()); a.Operation == Delete && builtin {
			return forbidden(a, errors.New("this is a system priority class and cannot be deleted"))
		}
	}
	return nil
}

func admitPodPriority(ctx context.Context, a Attributes, classes PriorityClasses) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	if a.Operation == Update {
		keepPriority(pod, a.Old)
		return nil
	}
	if a.Operation != Create {
		return nil
	}
	name, value, policy, err := resolvePriority(ctx, a, pod.Spec.PriorityClassName, classes)
	if err != nil {
		return err
	}
	pod.Spec.PriorityClassName = name
	if pod.Spec.Priority != nil && *pod.Spec.Priority != value {
		return forbidden(a, fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; "+
			"priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, value))
	}
	pod.Spec.Priority = &value
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return forbidden(a, fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; "+
				"priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy))
		}
		pod.Spec.PreemptionPolicy = policy
	}
	return nil
}

// keepPriority: the plugin set these on create; validation refuses a
// change, so an update that leaves them out keeps the stored ones.
func keepPriority(pod *corev1.Pod, oldObj runtime.Object) {
	old, ok := oldObj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.Spec.Priority == nil {
		pod.Spec.Priority = old.Spec.Priority
	}
	if pod.Spec.PreemptionPolicy == nil {
		pod.Spec.PreemptionPolicy = old.Spec.PreemptionPolicy
	}
}

// resolvePriority is the class's name, value and policy: the named class,
// else the global default, else none with priority 0.
func resolvePriority(ctx context.Context, a Attributes, name string, classes PriorityClasses) (string, int32, *corev1.PreemptionPolicy, error) {
	if name == "" {
		def, err := globalDefault(ctx, classes)
		if err != nil {
			return "", 0, nil, fmt.Errorf("error occurred while retrieving default priority class: %w", err)
		}
		if def == nil {
			policy := corev1.PreemptLowerPriority
			return "", priority.DefaultWhenNoDefaultClass, &policy, nil
		}
		return def.Name, def.Value, def.PreemptionPolicy, nil
	}
	pc, err := classes.PriorityClass(ctx, name)
	if apierrors.IsNotFound(err) {
		return "", 0, nil, forbidden(a, fmt.Errorf("no PriorityClass with name %s was found", name))
	}
	if err != nil {
		return "", 0, nil, fmt.Errorf("failed to get PriorityClass with name %s: %w", name, err)
	}
	return pc.Name, pc.Value, pc.PreemptionPolicy, nil
}

// globalDefault is the class marked globalDefault; should a race have
// made several, the one of lowest value, as kube picks it.
func globalDefault(ctx context.Context, classes PriorityClasses) (*schedulingv1.PriorityClass, error) {
	list, err := classes.PriorityClasses(ctx)
	if err != nil {
		return nil, err
	}
	var def *schedulingv1.PriorityClass
	for _, pc := range list {
		if pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def, nil
}

// oneGlobalDefault refuses a second global default class, created or
// marked so by an update.
func oneGlobalDefault(ctx context.Context, a Attributes, classes PriorityClasses) error {
	pc, ok := a.Object.(*schedulingv1.PriorityClass)
	if !ok || !pc.GlobalDefault {
		return nil
	}
	def, err := globalDefault(ctx, classes)
	if err != nil {
		return fmt.Errorf("failed to get default priority class: %w", err)
	}
	if def != nil && (a.Operation == Create || def.Name != pc.Name) {
		return forbidden(a, fmt.Errorf("PriorityClass %s is already marked as default. Only one default can exist", def.Name))
	}
	return nil
}
