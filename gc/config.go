package gc

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Config is the garbage collectors' policy, with kubelet's names and
// defaults (DefaultConfig); the agent maps kubelet's flags onto it.
type Config struct {
	// MinContainerAge: a dead container younger than this (from its
	// creation) stays (--minimum-container-ttl-duration). Default 0.
	MinContainerAge time.Duration
	// MaxPerPodContainer is how many dead instances of each container of a
	// pod are kept (--maximum-dead-containers-per-container); negative: no
	// limit. Default 1. The newest instance of a container of a pod that
	// exists is never removed, whatever its state: its exit backs the
	// container's status, restart count and `kubectl logs`, so the value
	// is at least 1.
	MaxPerPodContainer int
	// MaxContainers bounds the dead containers on the node
	// (--maximum-dead-containers); negative: no bound. Default -1. The
	// newest instance of each container of a pod that exists is kept
	// beyond it.
	MaxContainers int
	// ContainerGCPeriod is how often dead containers are collected.
	// Default 1 min, as kubelet's.
	ContainerGCPeriod time.Duration

	// ImageGCHighThresholdPercent: when the image filesystem is at least
	// this full, unused images are removed (--image-gc-high-threshold).
	// Default 85.
	ImageGCHighThresholdPercent int
	// ImageGCLowThresholdPercent is how full the image filesystem is left
	// by a collection (--image-gc-low-threshold). Default 80.
	ImageGCLowThresholdPercent int
	// ImageMinimumGCAge: an image first seen less than this long ago stays
	// (--minimum-image-ttl-duration, kubelet's imageMinimumGCAge), as it
	// may have just been pulled for a container. Default 2 min.
	ImageMinimumGCAge time.Duration
	// ImageGCPeriod is how often the image filesystem is checked. Default
	// 5 min, as kubelet's.
	ImageGCPeriod time.Duration

	// PodLogDir holds the containers' logs (<ns>_<pod>_<uid>/<container>/
	// <attempt>.log): a removed container's log goes, and so does the
	// directory of a pod that is gone.
	PodLogDir string
}

// DefaultConfig returns kubelet's defaults; PodLogDir is the agent's.
func DefaultConfig() Config {
	return Config{
		MaxPerPodContainer: 1,
		MaxContainers:      -1,
		ContainerGCPeriod:  time.Minute,

		ImageGCHighThresholdPercent: 85,
		ImageGCLowThresholdPercent:  80,
		ImageMinimumGCAge:           2 * time.Minute,
		ImageGCPeriod:               5 * time.Minute,

		PodLogDir: "/var/log/pods",
	}
}

// withDefaults fills the periods and the log directory when they are zero.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ContainerGCPeriod == 0 {
		c.ContainerGCPeriod = d.ContainerGCPeriod
	}
	if c.ImageGCPeriod == 0 {
		c.ImageGCPeriod = d.ImageGCPeriod
	}
	if c.PodLogDir == "" {
		c.PodLogDir = d.PodLogDir
	}
	return c
}

// Validate refuses what the collectors cannot run with, naming kubelet's
// flags and its messages where kubelet has them.
func (c Config) Validate() error {
	var errs []error
	if c.ImageGCHighThresholdPercent < 0 || c.ImageGCHighThresholdPercent > 100 {
		errs = append(errs, fmt.Errorf("invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) %d must be between 0 and 100, inclusive", c.ImageGCHighThresholdPercent))
	}
	if c.ImageGCLowThresholdPercent < 0 || c.ImageGCLowThresholdPercent > 100 {
		errs = append(errs, fmt.Errorf("invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) %d must be between 0 and 100, inclusive", c.ImageGCLowThresholdPercent))
	}
	if c.ImageGCLowThresholdPercent >= c.ImageGCHighThresholdPercent {
		errs = append(errs, fmt.Errorf("invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) %d must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) %d", c.ImageGCLowThresholdPercent, c.ImageGCHighThresholdPercent))
	}
	if c.ImageMinimumGCAge < 0 {
		errs = append(errs, fmt.Errorf("invalid configuration: imageMinimumGCAge (--minimum-image-ttl-duration) %v must not be negative", c.ImageMinimumGCAge))
	}
	if c.MinContainerAge < 0 {
		errs = append(errs, fmt.Errorf("invalid configuration: --minimum-container-ttl-duration %v must not be negative", c.MinContainerAge))
	}
	if c.MaxPerPodContainer == 0 {
		errs = append(errs, errors.New("invalid configuration: --maximum-dead-containers-per-container 0: the newest dead instance of a container backs its status, restart count and logs and is always kept; use 1, or a negative value for no limit"))
	}
	if c.ContainerGCPeriod < 0 || c.ImageGCPeriod < 0 {
		errs = append(errs, fmt.Errorf("invalid configuration: GC periods %v and %v must not be negative", c.ContainerGCPeriod, c.ImageGCPeriod))
	}
	if !filepath.IsAbs(c.PodLogDir) || filepath.Clean(c.PodLogDir) != c.PodLogDir {
		errs = append(errs, fmt.Errorf("invalid configuration: pod logs path %q must be an absolute, normalized path", c.PodLogDir))
	}
	return errors.Join(errs...)
}
