package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/kubeanchor"
)

// kubeAnchor is the anchor target: a real kube-apiserver on an etcd of its
// own on 127.0.0.1 (see kubeanchor).
type kubeAnchor struct{ *kubeanchor.Anchor }

// startKube starts the anchor and makes what kube-controller-manager would
// have made for the bench's pods. On error nothing is left behind.
func startKube(ctx context.Context, bins kubeanchor.Bins) (*kubeAnchor, error) {
	a, err := kubeanchor.Start(ctx, bins, kubeanchor.Options{})
	if err != nil {
		return nil, err
	}
	k := &kubeAnchor{a}
	if err := k.waitServiceAccount(ctx); err != nil {
		k.stop()
		return nil, err
	}
	return k, nil
}

// waitServiceAccount makes the default ServiceAccount of the bench
// namespace, which kube-controller-manager would (the ServiceAccount
// admission plugin refuses pods until it exists).
func (k *kubeAnchor) waitServiceAccount(ctx context.Context) error {
	cfg, err := k.restConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: benchNamespace}}
	_, err = cs.CoreV1().ServiceAccounts(benchNamespace).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("anchor: create serviceaccount %s/default: %w", benchNamespace, err)
	}
	return nil
}

func (k *kubeAnchor) name() string { return "kube-apiserver+etcd" }

func (k *kubeAnchor) restConfig() (*rest.Config, error) { return k.RESTConfig() }

// rss is kube-apiserver's and etcd's.
func (k *kubeAnchor) rss() ([]procRSS, error) {
	a, e, err := k.RSS()
	return []procRSS{{"kube-apiserver", a}, {"etcd", e}}, err
}

func (k *kubeAnchor) stop() error { return k.Stop() }
