// Package probe asks a benchmarked API server whether it is ready.
package probe

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Readyz makes one GET base+"/readyz" with hc, bounded to 2 s, and wants
// 200.
func Readyz(ctx context.Context, hc *http.Client, base string) error {
	return OK(ctx, hc, base+"/readyz")
}

// OK makes one GET url with hc, bounded to 2 s, and wants 200.
func OK(ctx context.Context, hc *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
