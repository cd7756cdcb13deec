package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/cri"
)

// imageGC removes unused images, least recently used first, when the
// image filesystem is too full, or when asked to free space.
type imageGC struct {
	cfg   Config
	rt    Runtime
	clock clock.PassiveClock
	log   *slog.Logger

	mu      sync.Mutex // one collection at a time; guards records
	records map[string]*imageRecord
}

// ImageStats is what one image collection did.
type ImageStats struct {
	// UsagePercent is how full the image filesystem was at the start.
	UsagePercent int
	// BytesToFree is what the collection set out to free (0: nothing).
	BytesToFree int64
	// Removed counts the images removed; Freed the bytes the filesystem
	// gained meanwhile.
	Removed int
	Freed   int64
}

// ErrNotEnoughFreed is returned (wrapped) when a collection could not free
// what it set out to.
var ErrNotEnoughFreed = errors.New("failed to garbage collect required amount of images")

// collect is kubelet's image GC pass: at or above the high threshold, free
// space down to the low one.
func (g *imageGC) collect(ctx context.Context) (ImageStats, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fs, err := g.rt.ImageFsInfo(ctx)
	if err != nil {
		return ImageStats{}, fmt.Errorf("image GC: %w", err)
	}
	st := ImageStats{UsagePercent: fs.UsagePercent()}
	st.BytesToFree = bytesToFree(fs, g.cfg.ImageGCHighThresholdPercent, g.cfg.ImageGCLowThresholdPercent)
	if st.BytesToFree <= 0 {
		// Below the threshold images are only detected, so that their ages
		// and last uses are known when space is needed.
		_, err := g.detect(ctx, g.clock.Now())
		return st, err
	}
	g.log.Info("disk usage on the image filesystem is over the high threshold, trying to free bytes down to the low threshold",
		"usage", st.UsagePercent, "highThreshold", g.cfg.ImageGCHighThresholdPercent, "amountToFree", st.BytesToFree,
		"lowThreshold", g.cfg.ImageGCLowThresholdPercent)
	st.Removed, st.Freed, err = g.freeSpace(ctx, st.BytesToFree, fs)
	if err == nil && st.Freed < st.BytesToFree {
		err = fmt.Errorf("%w: attempted to free %d bytes, but only found %d bytes eligible to free", ErrNotEnoughFreed, st.BytesToFree, st.Freed)
	}
	return st, err
}

// deleteUnused removes unused images until want bytes are freed (negative:
// all of them), whatever the thresholds.
func (g *imageGC) deleteUnused(ctx context.Context, want int64) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fs, err := g.rt.ImageFsInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("image GC: %w", err)
	}
	if want < 0 {
		want = math.MaxInt64
	}
	_, freed, err := g.freeSpace(ctx, want, fs)
	return freed, err
}

// detect lists the images and the containers, updates the records and
// returns the images in use.
func (g *imageGC) detect(ctx context.Context, now time.Time) (map[string]bool, error) {
	images, err := g.rt.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("image GC: %w", err)
	}
	cs, err := g.rt.ListContainers(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("image GC: %w", err)
	}
	inUse := imagesInUse(images, cs)
	updateRecords(g.records, images, inUse, now)
	return inUse, nil
}

// freeSpace removes the images that may go, least recently used first,
// until the filesystem has gained want bytes since before. What a removal
// freed is measured, not taken from the image's size, which counts the
// layers it shares with other images and not its unpacked snapshots: the
// filesystem's free space gained, or, when that is less, the bytes the
// runtime's images no longer take (other writers on the filesystem, a
// container's log, say, must not make it remove every image). A removal
// that fails is skipped.
func (g *imageGC) freeSpace(ctx context.Context, want int64, before cri.FsInfo) (int, int64, error) {
	now := g.clock.Now()
	inUse, err := g.detect(ctx, now)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	removed, freed := 0, int64(0)
	for _, c := range evictionOrder(g.records, inUse, g.cfg.ImageMinimumGCAge, now) {
		if freed >= want {
			break
		}
		if err := g.rt.RemoveImage(ctx, c.id); err != nil {
			errs = append(errs, fmt.Errorf("remove image %s: %w", c.id, err))
			continue
		}
		delete(g.records, c.id)
		removed++
		g.log.Info("removed an unused image", "image", c.id, "size", c.size, "lastUsed", c.lastUsed, "firstDetected", c.firstDetected)
		fs, err := g.rt.ImageFsInfo(ctx)
		if err != nil {
			return removed, freed, errors.Join(append(errs, fmt.Errorf("image GC: %w", err))...)
		}
		freed = max(int64(fs.AvailableBytes)-int64(before.AvailableBytes), int64(before.UsedBytes)-int64(fs.UsedBytes))
	}
	return removed, max(freed, 0), errors.Join(errs...)
}
