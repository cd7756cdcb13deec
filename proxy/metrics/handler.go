package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler is the metrics port's: what kube-proxy serves there, /metrics
// (the gatherer's metrics), /healthz ("ok" while the process answers) and
// /proxyMode (the mode's name). Anything else is 404. The port has no
// authentication, as kube-proxy's: it listens on loopback by default.
func Handler(g prometheus.Gatherer, mode string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /proxyMode", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(mode)) })
	return mux
}
