package deployment

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nodeagent/nodeagent/controllers/internal/fakestatus"
	"github.com/nodeagent/nodeagent/controllers/replicaset"
)

// The Deployment and ReplicaSet controllers run together on their
// informers, with a kubelet that makes every pod ready: a Deployment rolls
// out, rolls to a new template, and ends with only new pods, every one of
// them its new ReplicaSet's.
func TestWithReplicaSetController(t *testing.T) {
	client := fake.NewClientset(newDeployment("web", 3))
	fakestatus.Install(client, appsv1.SchemeGroupVersion.WithResource("replicasets"),
		func(stored, sent *appsv1.ReplicaSet) { stored.Status = sent.Status })
	fakestatus.Install(client, appsv1.SchemeGroupVersion.WithResource("deployments"),
		func(stored, sent *appsv1.Deployment) { stored.Status = sent.Status })
	stampCreatedSets(client)
	var n atomic.Int64
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		i := n.Add(1)
		p.Name, p.UID = fmt.Sprintf("%s%d", p.GenerateName, i), types.UID(fmt.Sprintf("pod-%d", i))
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dc := New(client, factory, record.NewFakeRecorder(1000), log, clk, Config{})
	rsc := replicaset.New(client, factory, record.NewFakeRecorder(1000), log, clk, replicaset.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{}, 2)
	go func() { dc.Run(ctx); done <- struct{}{} }()
	go func() { rsc.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done; factory.Shutdown() })

	pods := client.CoreV1().Pods("default")
	kubelet := func() {
		l, _ := pods.List(ctx, metav1.ListOptions{})
		for _, p := range l.Items {
			if p.Status.Phase != corev1.PodRunning {
				p.Status.Phase = corev1.PodRunning
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				_, _ = pods.UpdateStatus(ctx, &p, metav1.UpdateOptions{})
			}
		}
	}
	rolledOut := func(image string) func() bool {
		return func() bool {
			kubelet()
			d, _ := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
			_, ok := kubectlRolloutStatus(d)
			l, _ := pods.List(ctx, metav1.ListOptions{})
			if !ok || len(l.Items) != 3 {
				return false
			}
			for _, p := range l.Items {
				if p.Spec.Containers[0].Image != image || p.Labels[HashLabel] != ComputeHash(&d.Spec.Template, nil) {
					return false
				}
			}
			return true
		}
	}
	eventually(t, rolledOut("img:1"))
	// As a client does: a write from a copy the controllers' status
	// writes made stale is refused, and retried on a fresh read.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Spec.Containers[0].Image = "img:2"
		d.Generation++
		_, err = client.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		// The old pods go (no garbage collector here: the ReplicaSet
		// controller deletes them as its ReplicaSet scales to 0).
		clk.Step(time.Second)
		return rolledOut("img:2")()
	})
}
