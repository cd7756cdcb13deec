package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/nodeagent/nodeagent/cri"
	crictr "github.com/nodeagent/nodeagent/cri/containerd"
	"github.com/nodeagent/nodeagent/gc"
	"github.com/nodeagent/nodeagent/internal/ctrdns"
)

// realResults are the image pass on containerd.
type realResults struct {
	skipped          string // why the phase did not run
	imported         time.Duration
	pass, idle       time.Duration
	stats            gc.ImageStats
	imagesLeft, want int
}

// realImagePass imports Images small images (one random 64 KiB layer
// each) into a containerd namespace of its own, and times an image pass
// over them through the containerd runtime, on an image filesystem taken
// to hold that namespace alone and to be 91 % full (as the e2e test's);
// the namespace goes at the end.
func realImagePass(ctx context.Context, cfg config) (r realResults, err error) {
	if os.Geteuid() != 0 {
		return realResults{skipped: "needs root"}, nil
	}
	if _, err := os.Stat(cfg.Containerd); err != nil {
		return realResults{skipped: fmt.Sprintf("no containerd at %s", cfg.Containerd)}, nil
	}
	ns := "gc-bench-" + randomHex(4)
	c, err := containerd.New(cfg.Containerd)
	if err != nil {
		return r, err
	}
	defer c.Close()
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, ctrdns.Remove(rctx, cfg.Containerd, ns))
	}()
	nctx := namespaces.WithNamespace(ctx, ns)
	start := time.Now()
	if err := importImages(nctx, c, cfg.Images); err != nil {
		return r, err
	}
	r.imported = time.Since(start)
	state, err := os.MkdirTemp("", "gc-bench-cri-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(state)
	rt, used, err := benchRuntime(ctx, cfg, ns, state)
	if err != nil {
		return r, err
	}
	defer rt.Close()
	gcCfg := gc.DefaultConfig()
	gcCfg.ImageMinimumGCAge, gcCfg.PodLogDir = 0, "/nonexistent"
	m, err := gc.New(gcCfg, gc.Deps{Runtime: fixedImageFs{rt, used * 100 / 91}, Pods: podState{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return r, err
	}
	start = time.Now()
	if _, r.stats, err = m.GarbageCollect(ctx); err != nil {
		return r, err
	}
	r.pass = time.Since(start)
	start = time.Now()
	if _, _, err = m.GarbageCollect(ctx); err != nil {
		return r, err
	}
	r.idle = time.Since(start)
	left, err := rt.ListImages(ctx)
	r.imagesLeft = len(left)
	return r, err
}

// benchRuntime is the containerd runtime on namespace ns, and the bytes
// of the namespace's content.
func benchRuntime(ctx context.Context, cfg config, ns, state string) (*crictr.Runtime, uint64, error) {
	rc := crictr.DefaultConfig()
	bin, err := filepath.Abs(cfg.Bin)
	if err != nil {
		return nil, 0, err
	}
	rc.Address, rc.Namespace, rc.PauseBinary, rc.LoggerBinary = cfg.Containerd, ns, bin, bin
	rc.StateDir, rc.FIFODir = state, filepath.Join(state, "fifo")
	rt, err := crictr.New(rc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, 0, err
	}
	fs, err := rt.ImageFsInfo(ctx)
	if err != nil {
		rt.Close()
		return nil, 0, err
	}
	return rt, fs.UsedBytes, nil
}

// fixedImageFs is a runtime whose image filesystem is capacity bytes
// holding the namespace's content alone.
type fixedImageFs struct {
	cri.Runtime
	capacity uint64
}

func (r fixedImageFs) ImageFsInfo(ctx context.Context) (cri.FsInfo, error) {
	fs, err := r.Runtime.ImageFsInfo(ctx)
	fs.CapacityBytes, fs.AvailableBytes = r.capacity, r.capacity-min(fs.UsedBytes, r.capacity)
	return fs, err
}

// importImages imports n images of one random 64 KiB layer each.
func importImages(ctx context.Context, c *containerd.Client, n int) error {
	refs := map[name.Reference]v1.Image{}
	for i := 0; i < n; i++ {
		layer, err := randomLayer(64 << 10)
		if err != nil {
			return err
		}
		img, err := mutate.AppendLayers(empty.Image, layer)
		if err == nil {
			img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH,
				RootFS: v1.RootFS{Type: "layers", DiffIDs: diffIDs(img)}})
		}
		if err != nil {
			return err
		}
		tag, err := name.NewTag(fmt.Sprintf("127.0.0.1:5000/nodeagent/gc-bench:%03d", i), name.Insecure)
		if err != nil {
			return err
		}
		refs[tag] = img
	}
	var archive bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &archive); err != nil {
		return err
	}
	imgs, err := c.Import(ctx, &archive)
	if err == nil && len(imgs) != n {
		err = fmt.Errorf("%d images imported, want %d", len(imgs), n)
	}
	return err
}

func randomLayer(size int) (v1.Layer, error) {
	body := make([]byte, size)
	rand.Read(body)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "data", Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	tw.Write(body)
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}

func diffIDs(img v1.Image) []v1.Hash {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil
	}
	return cfg.RootFS.DiffIDs
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
