package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/apiserver/storage"
	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

const (
	etcdPrefix = "/registry/pods/bench/"
	// etcdStartTimeout bounds the start of the embedded etcd.
	etcdStartTimeout = 60 * time.Second
)

// etcdResults are the baseline figures: the same writes and lists as the API
// server's, straight to an etcd in this process.
type etcdResults struct {
	put1, put16 stats.Summary // Puts with 1 and with 16 concurrent clients
	bulk        stats.Summary // Puts of the listed pods, 16 concurrent clients
	get         stats.Summary // prefix Gets of every pod
	valueBytes  int           // size of one stored pod
}

// etcdBaseline starts an embedded etcd in a temporary directory, runs the
// baseline against it and removes it all.
func etcdBaseline(ctx context.Context, cfg config, podJSON []byte) (etcdResults, error) {
	dir, err := os.MkdirTemp("", "nodeagent-bench-etcd-")
	if err != nil {
		return etcdResults{}, fmt.Errorf("temp dir for etcd: %w", err)
	}
	defer os.RemoveAll(dir)
	sctx, cancel := context.WithTimeout(ctx, etcdStartTimeout)
	defer cancel()
	b, err := storage.StartEmbedded(sctx, dir)
	if err != nil {
		return etcdResults{}, err
	}
	defer b.Close()
	var tmpl corev1.Pod
	if err := json.Unmarshal(podJSON, &tmpl); err != nil {
		return etcdResults{}, fmt.Errorf("pod template: %w", err)
	}
	return runEtcdBaseline(ctx, b.Client, cfg, &tmpl)
}

// runEtcdBaseline mirrors the API measurements: creates with 1 and 16
// clients, a clean-up, the bulk creates and the lists.
func runEtcdBaseline(ctx context.Context, kv *clientv3.Client, cfg config, tmpl *corev1.Pod) (etcdResults, error) {
	var r etcdResults
	var err error
	r.valueBytes = len(podValues(tmpl, "size", 1)[0].value)
	if r.put1, err = putPods(ctx, kv, podValues(tmpl, "c1", cfg.Creates1), 1); err != nil {
		return r, err
	}
	if r.put16, err = putPods(ctx, kv, podValues(tmpl, "c16", cfg.Creates16), cfg.Clients); err != nil {
		return r, err
	}
	if _, err := kv.Delete(ctx, etcdPrefix, clientv3.WithPrefix()); err != nil {
		return r, fmt.Errorf("etcd delete prefix %s: %w", etcdPrefix, err)
	}
	if r.bulk, err = putPods(ctx, kv, podValues(tmpl, "l", cfg.ListPods), cfg.Clients); err != nil {
		return r, err
	}
	r.get, err = getPrefix(ctx, kv, cfg.ListPods, cfg.Lists)
	return r, err
}

// keyValue is one pod to write: its key and JSON.
type keyValue struct {
	key   string
	value string
}

// podValues encodes n copies of tmpl named prefix-NNNNN ahead of time, so
// that the Puts measure etcd alone.
func podValues(tmpl *corev1.Pod, prefix string, n int) []keyValue {
	out := make([]keyValue, n)
	for i := range out {
		pod := *tmpl
		pod.Name = fmt.Sprintf("%s-%05d", prefix, i)
		data, _ := json.Marshal(&pod) // a Pod always marshals
		out[i] = keyValue{key: etcdPrefix + pod.Name, value: string(data)}
	}
	return out
}

// putPods writes every value with the given number of concurrent clients
// (goroutines sharing the in-process client).
func putPods(ctx context.Context, kv *clientv3.Client, kvs []keyValue, clients int) (stats.Summary, error) {
	return measure(ctx, len(kvs), clients, func(ctx context.Context, _, i int) error {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		if _, err := kv.Put(ctx, kvs[i].key, kvs[i].value); err != nil {
			return fmt.Errorf("etcd put %s: %w", kvs[i].key, err)
		}
		return nil
	})
}

// getPrefix reads every pod under the prefix `lists` times after one
// unmeasured warm-up, checking the count.
func getPrefix(ctx context.Context, kv *clientv3.Client, want, lists int) (stats.Summary, error) {
	get := func(ctx context.Context, _, _ int) error {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		resp, err := kv.Get(ctx, etcdPrefix, clientv3.WithPrefix())
		if err != nil {
			return fmt.Errorf("etcd get prefix %s: %w", etcdPrefix, err)
		}
		if len(resp.Kvs) != want {
			return fmt.Errorf("etcd get prefix %s: %d keys, want %d", etcdPrefix, len(resp.Kvs), want)
		}
		return nil
	}
	if err := get(ctx, 0, 0); err != nil {
		return stats.Summary{}, err
	}
	return measure(ctx, lists, 1, get)
}
