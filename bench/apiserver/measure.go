package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
)

// target is an API server under measurement: ours, or the anchor
// (kube-apiserver and its etcd).
type target interface {
	name() string
	restConfig() (*rest.Config, error)
	rss() ([]procRSS, error) // of every process the target is made of
	stop() error             // stops it and removes its files
}

// results are the figures of one run.
type results struct {
	ours        targetResults
	kube        *targetResults // nil when the anchor was not measured
	kubeSkipped string         // why not
	etcd        etcdResults
}

// targetResults are one target's figures.
type targetResults struct {
	name, versions          string
	rssIdle, rssStored      rssWindow // at rest, over cfg.RSSWindow
	rssListed               uint64    // right after a list of every pod
	create1, create16, bulk stats.Summary
	listJSON, listProto     stats.Summary
	listNode, listLabel     stats.Summary // selector lists (protobuf)
	watch                   stats.Summary
	podJSON                 []byte // one pod as stored, re-encoded as JSON
}

// runTarget starts a target, measures it and stops it, also on failure.
func runTarget(ctx context.Context, cfg config, progress io.Writer, start func(context.Context) (target, error)) (r targetResults, err error) {
	t, err := start(ctx)
	if err != nil {
		return r, err
	}
	defer func() {
		if serr := t.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	return measureTarget(ctx, cfg, t, progress)
}

// measureTarget runs the phases in order: nodes, creates, watch, then an
// emptied namespace filled with cfg.ListPods pods for the lists, then
// with cfg.Pods for the RSS.
func measureTarget(ctx context.Context, cfg config, t target, progress io.Writer) (targetResults, error) {
	r := targetResults{name: t.name()}
	say := func(format string, a ...any) {
		fmt.Fprintf(progress, "==> [%s] "+format+"\n", append([]any{t.name()}, a...)...)
	}
	restCfg, err := t.restConfig()
	if err != nil {
		return r, err
	}
	say("RSS at rest for %s", cfg.RSSWindow)
	if r.rssIdle, err = sampleRSS(ctx, t, cfg.RSSWindow); err != nil {
		return r, err
	}
	css, closeIdle, err := newClientsets(restCfg, cfg.Clients)
	if err != nil {
		return r, err
	}
	defer closeIdle()
	m := podMaker{nodes: cfg.Nodes}
	say("create %d nodes, then %d pods with 1 client, %d with %d clients", cfg.Nodes, cfg.Creates1, cfg.Creates16, cfg.Clients)
	if err := measureCreates(ctx, cfg, css, m, &r); err != nil {
		return r, err
	}
	say("watch: %d watchers, %d pods created one at a time", cfg.Watchers, cfg.WatchEvents)
	if r.watch, err = measureWatch(ctx, restCfg, css[0], m, cfg.Watchers, cfg.WatchEvents); err != nil {
		return r, err
	}
	say("delete the pods, create %d, list them %d times per kind", cfg.ListPods, cfg.Lists)
	if err := measureLists(ctx, cfg, restCfg, css, m, &r); err != nil {
		return r, err
	}
	say("create %d more pods (%d in all), RSS at rest for %s, list them all", cfg.Pods-cfg.ListPods, cfg.Pods, cfg.RSSWindow)
	return r, measureStored(ctx, cfg, t, restCfg, css, m, &r)
}

// measureCreates makes the nodes, then times creates with one client and
// with every client, and keeps one pod as stored.
func measureCreates(ctx context.Context, cfg config, css []kubernetes.Interface, m podMaker, r *targetResults) error {
	if err := createNodes(ctx, css[0], cfg.Nodes); err != nil {
		return err
	}
	var err error
	if r.create1, err = createPods(ctx, css[:1], m, "c1", 0, cfg.Creates1); err != nil {
		return err
	}
	if r.create16, err = createPods(ctx, css, m, "c16", 0, cfg.Creates16); err != nil {
		return err
	}
	r.podJSON, err = storedPodJSON(ctx, css[0], "c1-00000")
	return err
}

// measureLists empties the namespace, creates cfg.ListPods pods, then
// lists them whole in JSON and in protobuf, one node's pods (every
// namespace, by spec.nodeName, as an agent does) and one shard's (1 %, by
// label).
func measureLists(ctx context.Context, cfg config, restCfg *rest.Config, css []kubernetes.Interface, m podMaker, r *targetResults) error {
	if err := deleteAllPods(ctx, css[0]); err != nil {
		return err
	}
	var err error
	if r.bulk, err = createPods(ctx, css, m, "l", 0, cfg.ListPods); err != nil {
		return err
	}
	if r.listJSON, err = listWith(ctx, restCfg, mediaJSON, everyPod(cfg.ListPods), cfg.Lists); err != nil {
		return err
	}
	if r.listProto, err = listWith(ctx, restCfg, mediaProtobuf, everyPod(cfg.ListPods), cfg.Lists); err != nil {
		return err
	}
	if r.listNode, err = listWith(ctx, restCfg, mediaProtobuf, nodeQuery(cfg), cfg.Lists); err != nil {
		return err
	}
	r.listLabel, err = listWith(ctx, restCfg, mediaProtobuf, shardQuery(cfg), cfg.Lists)
	return err
}

// nodeQuery lists the first node's pods in every namespace.
func nodeQuery(cfg config) listQuery {
	return listQuery{opts: metav1.ListOptions{FieldSelector: "spec.nodeName=" + benchNode(0)},
		want: placed(cfg.ListPods, cfg.Nodes, 0)}
}

// shardQuery lists the first shard's pods (1 %) of the bench namespace.
func shardQuery(cfg config) listQuery {
	return listQuery{namespace: benchNamespace, opts: metav1.ListOptions{LabelSelector: "bench-shard=" + shardName(0)},
		want: placed(cfg.ListPods, shards, 0)}
}

// measureStored fills the namespace up to cfg.Pods pods and samples the
// RSS at rest, then lists them all (JSON, unmeasured) and reads it again.
func measureStored(ctx context.Context, cfg config, t target, restCfg *rest.Config, css []kubernetes.Interface, m podMaker, r *targetResults) error {
	if more := cfg.Pods - cfg.ListPods; more > 0 {
		if _, err := createPods(ctx, css, m, "l", cfg.ListPods, more); err != nil {
			return err
		}
	}
	var err error
	if r.rssStored, err = sampleRSS(ctx, t, cfg.RSSWindow); err != nil {
		return err
	}
	if cfg.HeapProfiles != "" {
		if err := saveHeapProfile(ctx, restCfg, filepath.Join(cfg.HeapProfiles, t.name()+".heap.pprof")); err != nil {
			return err
		}
	}
	if _, err := listWith(ctx, restCfg, mediaJSON, everyPod(cfg.Pods), 1); err != nil {
		return err
	}
	listed, err := t.rss()
	r.rssListed = total(listed)
	return err
}

func listWith(ctx context.Context, restCfg *rest.Config, media string, q listQuery, lists int) (stats.Summary, error) {
	c, err := newListClient(restCfg, media)
	if err != nil {
		return stats.Summary{}, err
	}
	defer c.hc.CloseIdleConnections()
	return c.listPods(ctx, q, lists)
}

// saveHeapProfile writes the server's /debug/pprof/heap to path (`go tool
// pprof` reads it).
func saveHeapProfile(ctx context.Context, restCfg *rest.Config, path string) error {
	c, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	b, err := c.Discovery().RESTClient().Get().AbsPath("/debug/pprof/heap").Param("gc", "1").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}
