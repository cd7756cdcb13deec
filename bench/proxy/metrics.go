package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// kube-proxy's sync-duration histograms (pkg/proxy/metrics, v1.37): every
// sync, and the full and partial ones apart. Each has an ip_family label;
// the bench's Services are IPv4.
const (
	metricAllSyncs    = "kubeproxy_sync_proxy_rules_duration_seconds"
	metricFullSyncs   = "kubeproxy_sync_full_proxy_rules_duration_seconds"
	metricPartialSync = "kubeproxy_sync_partial_proxy_rules_duration_seconds"
	measuredFamily    = "IPv4"
)

// histo is a histogram's running sum (seconds) and count.
type histo struct {
	sum   float64
	count uint64
}

// since is the mean duration of the observations made after before, and
// how many there were.
func (h histo) since(before histo) (time.Duration, uint64) {
	n := h.count - before.count
	if h.count <= before.count {
		return 0, 0
	}
	return time.Duration((h.sum - before.sum) / float64(n) * float64(time.Second)), n
}

// sumSince is the total duration of the observations made after before.
func (h histo) sumSince(before histo) time.Duration {
	if h.count <= before.count {
		return 0
	}
	return time.Duration((h.sum - before.sum) * float64(time.Second))
}

// syncMetrics are kube-proxy's IPv4 sync-duration histograms.
type syncMetrics struct {
	all, full, partial histo
}

// parseSyncMetrics reads them from a /metrics page (Prometheus text
// format). A histogram not exported (kube-proxy exports none before its
// first sync) or without an IPv4 series reads as zero.
func parseSyncMetrics(r io.Reader) (syncMetrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return syncMetrics{}, fmt.Errorf("parse kube-proxy metrics: %w", err)
	}
	var m syncMetrics
	for name, dst := range map[string]*histo{metricAllSyncs: &m.all, metricFullSyncs: &m.full, metricPartialSync: &m.partial} {
		fam, ok := fams[name]
		if !ok {
			continue
		}
		h, err := familyHisto(fam)
		if err != nil {
			return syncMetrics{}, err
		}
		*dst = h
	}
	return m, nil
}

// familyHisto is the IPv4 series of a histogram family (zero if it has
// none).
func familyHisto(fam *dto.MetricFamily) (histo, error) {
	if fam.GetType() != dto.MetricType_HISTOGRAM {
		return histo{}, fmt.Errorf("kube-proxy metrics: %s is a %s, not a histogram", fam.GetName(), fam.GetType())
	}
	for _, m := range fam.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "ip_family" && l.GetValue() == measuredFamily {
				return histo{sum: m.GetHistogram().GetSampleSum(), count: m.GetHistogram().GetSampleCount()}, nil
			}
		}
	}
	return histo{}, nil
}

// scrape GETs url with hc and parses the sync metrics.
func scrape(ctx context.Context, hc *http.Client, url string) (syncMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return syncMetrics{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return syncMetrics{}, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return syncMetrics{}, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return parseSyncMetrics(resp.Body)
}
