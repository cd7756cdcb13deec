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
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}
