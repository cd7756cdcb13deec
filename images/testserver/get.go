package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runGet is `testserver get [--count N] [--timeout D] URL`: a client for pods
// (busybox-static's wget cannot resolve anything): it fetches URL N times,
// each on a new connection, and prints "request i: <body>" per answer.
func runGet(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	count := fs.Int("count", 1, "how many requests, each on a new connection")
	timeout := fs.Duration("timeout", 3*time.Second, "per request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: testserver get [--count N] [--timeout D] URL")
	}
	c := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	failed := 0
	for i := 1; i <= *count; i++ {
		body, err := fetch(ctx, c, fs.Arg(0))
		if err != nil {
			failed++
			body = "error: " + err.Error()
		}
		fmt.Fprintf(stdout, "request %d: %s\n", i, body)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d requests failed", failed, *count)
	}
	return nil
}

func fetch(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return strings.TrimSpace(string(b)), err
}
