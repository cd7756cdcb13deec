package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagent/nodeagent/bench/internal/stats"
	"github.com/nodeagent/nodeagent/lab"
)

// probedLabel marks the probe phase's pods; probedService selects them.
const (
	probedLabel   = "probed"
	probedService = "probed"
)

// probeResults are the probe phase's figures.
type probeResults struct {
	out, back stats.Summary // readiness change -> the endpoint's rules gone, back
	cpu       time.Duration // the agent's CPU time over the window
}

// probed makes a pod of the probe phase: an HTTP readiness probe on the
// test server's switchable /healthz, every second, one failure or success
// to switch.
func probed(pod *corev1.Pod) {
	pod.Labels = map[string]string{"app": probedLabel}
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
	}
}

// measureProbes starts n probed pods behind a Service, reads the agent's
// CPU time over window, then turns the readiness of one pod after another
// off and on again (flips times) and times how long each change takes to
// reach the proxy's rules.
func measureProbes(ctx context.Context, cfg config, b *benchNode, p *pods, progress io.Writer) (probeResults, error) {
	var r probeResults
	if err := createService(ctx, p); err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "==> %d pods with a readiness probe every second\n", cfg.ProbePods)
	pp := *p
	pp.decorate = probed
	if _, err := pp.startTogether(ctx, "probed", cfg.ProbePods, corev1.RestartPolicyAlways); err != nil {
		return r, err
	}
	ips := make([]string, cfg.ProbePods)
	for i := range ips {
		name := fmt.Sprintf("probed-%d", i)
		if _, err := p.tr.await(name, isReady).wait(ctx, podTimeout); err != nil {
			return r, err
		}
		ips[i] = p.tr.get(name).Status.PodIP
	}
	fmt.Fprintf(progress, "==> the agent's CPU time over %s\n", cfg.CPUWindow)
	var err error
	if r.cpu, err = b.agentCPU(ctx, cfg.CPUWindow); err != nil {
		return r, err
	}
	fmt.Fprintf(progress, "==> %d readiness changes -> proxy rules\n", cfg.Flips)
	r.out, r.back, err = flips(ctx, b.node, ips, cfg.Flips)
	return r, err
}

func createService(ctx context.Context, p *pods) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: probedService, Namespace: benchNamespace},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": probedLabel},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	_, err := p.cs.CoreV1().Services(benchNamespace).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

func isReady(p *corev1.Pod) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// agentCPU is the agent's CPU time over window.
func (b *benchNode) agentCPU(ctx context.Context, window time.Duration) (time.Duration, error) {
	before, err := b.agent.CPUTime()
	if err != nil {
		return 0, err
	}
	if err := sleep(ctx, window); err != nil {
		return 0, err
	}
	after, err := b.agent.CPUTime()
	return after - before, err
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// flipGap is the pause after a change reached the rules before the next
// flip: past the proxy's 1 s minimum sync interval, so that the figure is
// the probe's and the pipeline's, not the proxy's rate limit.
const flipGap = 1500 * time.Millisecond

// flips turns the readiness of the pods at ips off and on, one at a time,
// n times in all: the time from the POST that fails /healthz to the last
// proxy rule naming the pod's address gone, and from the POST that heals
// it to the rule back.
func flips(ctx context.Context, node *lab.Node, ips []string, n int) (out, back stats.Summary, err error) {
	var outs, backs []time.Duration
	began := time.Now()
	for i := 0; i < 2*n; i++ {
		if err := sleep(ctx, flipGap); err != nil {
			return out, back, err
		}
		healthy := i%2 == 1
		d, err := flip(ctx, node, ips[i/2%len(ips)]+":8080", healthy)
		if err != nil {
			return out, back, err
		}
		if healthy {
			backs = append(backs, d)
		} else {
			outs = append(outs, d)
		}
	}
	wall := time.Since(began)
	return stats.Summarize(outs, wall), stats.Summarize(backs, wall), nil
}

// flip switches the test server at dest healthy or not, and waits until
// the proxy's rules show it (DNAT to dest present or gone).
func flip(ctx context.Context, node *lab.Node, dest string, healthy bool) (time.Duration, error) {
	start := time.Now()
	if err := setHealth(ctx, node, dest, healthy); err != nil {
		return 0, err
	}
	deadline := start.Add(podTimeout)
	for {
		rules, err := natRules(node)
		if err != nil {
			return 0, err
		}
		if strings.Contains(rules, "--to-destination "+dest+"\n") == healthy {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the rules for %s did not follow its readiness (healthy %v) within %s", dest, healthy, podTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// setHealth POSTs /healthz?fail=... to the test server, from inside the
// lab node.
func setHealth(ctx context.Context, node *lab.Node, dest string, healthy bool) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: node.DialContext, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://%s/healthz?fail=%v", dest, !healthy), nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("switch the health of %s: %w", dest, err)
	}
	resp.Body.Close()
	return nil
}

// natRules is the lab node's nat table, as iptables-save prints it.
func natRules(node *lab.Node) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command("iptables-save", "-t", "nat")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := node.Run(cmd); err != nil {
		return "", fmt.Errorf("iptables-save: %w: %s", err, errOut.String())
	}
	return out.String(), nil
}

func reportProbes(w io.Writer, cfg config, r probeResults) {
	what := fmt.Sprintf("POST /healthz?fail=true -> its DNAT gone from iptables-save; %d probed pods behind the Service, probe period 1 s, %s after the last change", cfg.ProbePods, flipGap)
	line(w, "readiness -> rules, out", r.out, what)
	line(w, "readiness -> rules, back", r.back, "POST /healthz?fail=false -> its DNAT back")
	perMin := r.cpu.Seconds() * float64(time.Minute) / float64(cfg.CPUWindow)
	fmt.Fprintf(w, "%-26s %.2f CPU-s/min  (%.1f%% of one core; %s over %s, %d readiness probes a second)\n",
		fmt.Sprintf("agent CPU, %d probed pods", cfg.ProbePods), perMin, 100*perMin/60, r.cpu.Round(10*time.Millisecond), cfg.CPUWindow, cfg.ProbePods)
}
