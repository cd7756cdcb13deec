package main

import (
	"flag"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodeagent/nodeagent/agent"
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
