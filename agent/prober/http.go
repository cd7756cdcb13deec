package prober

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
)

// httpHandler runs httpGet probes (HTTPGetRequest, httpOutcome).
type httpHandler struct {
	client    *http.Client
	userAgent string
}

func (h httpHandler) run(ctx context.Context, t target, p *corev1.Probe) (outcome, string, error) {
	req, err := HTTPGetRequest(p.HTTPGet, t.container, t.podIP, h.userAgent)
	if err != nil {
		return outcomeUnknown, "", err
	}
	client := *h.client
	client.Timeout = timeout(p)
	res, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return outcomeFailure, err.Error(), nil
	}
	defer res.Body.Close()
	return httpOutcome(res)
}
