package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodeagent/nodeagent/agent"
	"github.com/nodeagent/nodeagent/cri"
)

// gcFlags maps kubelet's garbage collection and log rotation flags, with
// kubelet's names and defaults, onto the agent's config.
func gcFlags(fs *flag.FlagSet, c *agent.Config) {
	g := &c.GC
	fs.IntVar(&g.ImageGCHighThresholdPercent, "image-gc-high-threshold", g.ImageGCHighThresholdPercent,
		"percent of the image filesystem's disk usage at or above which image garbage collection runs (100: never on its period)")
	fs.IntVar(&g.ImageGCLowThresholdPercent, "image-gc-low-threshold", g.ImageGCLowThresholdPercent,
		"percent of the image filesystem's disk usage that image garbage collection frees down to; less than --image-gc-high-threshold")
	fs.DurationVar(&g.ImageMinimumGCAge, "minimum-image-ttl-duration", g.ImageMinimumGCAge,
		"minimum age of an unused image before it is garbage collected")
	fs.IntVar(&g.MaxPerPodContainer, "maximum-dead-containers-per-container", g.MaxPerPodContainer,
		"dead instances of each container kept (negative: no limit)")
	fs.IntVar(&g.MaxContainers, "maximum-dead-containers", g.MaxContainers,
		"dead containers kept on the node (negative: no limit)")
	fs.DurationVar(&g.MinContainerAge, "minimum-container-ttl-duration", g.MinContainerAge,
		"minimum age of a dead container before it is garbage collected")
	fs.Func("container-log-max-size", "largest size of a container log file before it is rotated, a quantity (default 10Mi; 0: never rotated)", func(v string) error {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("invalid configuration: containerLogMaxSize (--container-log-max-size) %q must be a quantity: %w", v, err)
		}
		c.ContainerLogRotation.MaxSize = q.Value()
		return nil
	})
	fs.IntVar(&c.ContainerLogRotation.MaxFiles, "container-log-max-files", c.ContainerLogRotation.MaxFiles,
		"most log files of a container, the current one included (at least 2)")
}

// testGCHooks applies, for tests only, two settings read from the
// environment (as NODEAGENT_TEST_HOLD_VOLUME_STEP), which kubelet has no
// flag for: NODEAGENT_TEST_GC_PERIOD, both collectors' period instead of
// 1 min and 5 min; NODEAGENT_TEST_IMAGEFS_CAPACITY (bytes), an image
// filesystem of that size holding the containerd namespace's content
// alone, instead of statfs of the snapshotter's root, which the e2e tests
// share with the machine and every other test: its usage is the images'
// real bytes, which removals really free.
func testGCHooks(cfg *agent.Config, rt cri.Runtime) (cri.Runtime, error) {
	if v := os.Getenv("NODEAGENT_TEST_GC_PERIOD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("NODEAGENT_TEST_GC_PERIOD %q is not a positive duration", v)
		}
		cfg.GC.ContainerGCPeriod, cfg.GC.ImageGCPeriod = d, d
	}
	v := os.Getenv("NODEAGENT_TEST_IMAGEFS_CAPACITY")
	if v == "" {
		return rt, nil
	}
	capacity, err := strconv.ParseUint(v, 10, 64)
	if err != nil || capacity == 0 {
		return nil, fmt.Errorf("NODEAGENT_TEST_IMAGEFS_CAPACITY %q is not a positive number of bytes", v)
	}
	return testImageFs{Runtime: rt, capacity: capacity}, nil
}

// testImageFs is a runtime whose image filesystem is capacity bytes
// holding the namespace's images alone (testGCHooks).
type testImageFs struct {
	cri.Runtime
	capacity uint64
}

func (r testImageFs) ImageFsInfo(ctx context.Context) (cri.FsInfo, error) {
	fs, err := r.Runtime.ImageFsInfo(ctx)
	if err != nil {
		return fs, err
	}
	fs.CapacityBytes, fs.AvailableBytes = r.capacity, r.capacity-min(fs.UsedBytes, r.capacity)
	return fs, nil
}
