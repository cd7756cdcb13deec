package gc

import (
	"cmp"
	"slices"
	"time"

	"github.com/nodeagent/nodeagent/cri"
)

// imageRecord is what the image collector remembers of an image, as
// kubelet's: when it was first seen and when last seen in use.
type imageRecord struct {
	firstDetected time.Time
	lastUsed      time.Time // zero: never seen in use
	size          int64
}

// imagesInUse lists the IDs of the images a container uses, in any state:
// by the image ID the runtime recorded, else by the reference it was
// created from.
func imagesInUse(images []cri.Image, cs []cri.Container) map[string]bool {
	byRef := map[string]string{}
	for _, img := range images {
		for _, ref := range img.Refs {
			byRef[ref] = img.ID
		}
	}
	out := map[string]bool{}
	for _, c := range cs {
		switch {
		case c.ImageID != "":
			out[c.ImageID] = true
		case byRef[c.Image] != "":
			out[byRef[c.Image]] = true
		default:
			out[c.Image] = true // created from an image ID
		}
	}
	return out
}

// updateRecords brings the records up to the images there are at now:
// new ones are first detected now, those in use were last used now, those
// gone are forgotten.
func updateRecords(records map[string]*imageRecord, images []cri.Image, inUse map[string]bool, now time.Time) {
	seen := map[string]bool{}
	for _, img := range images {
		seen[img.ID] = true
		r := records[img.ID]
		if r == nil {
			r = &imageRecord{firstDetected: now}
			records[img.ID] = r
		}
		if inUse[img.ID] {
			r.lastUsed = now
		}
		r.size = img.Size
	}
	for id := range records {
		if !seen[id] {
			delete(records, id)
		}
	}
}

// candidate is an image that may be removed.
type candidate struct {
	id string
	imageRecord
}

// evictionOrder lists the images that may go, least recently used first
// (never used before used long ago; ties: first detected first): those not
// in use now and first detected at least minAge before now.
func evictionOrder(records map[string]*imageRecord, inUse map[string]bool, minAge time.Duration, now time.Time) []candidate {
	var out []candidate
	for id, r := range records {
		if inUse[id] || now.Sub(r.firstDetected) < minAge {
			continue
		}
		out = append(out, candidate{id: id, imageRecord: *r})
	}
	slices.SortFunc(out, func(a, b candidate) int {
		return cmp.Or(a.lastUsed.Compare(b.lastUsed), a.firstDetected.Compare(b.firstDetected), cmp.Compare(a.id, b.id))
	})
	return out
}

// bytesToFree is what a collection frees at usage (kubelet's arithmetic):
// nothing below the high threshold, else down to the low threshold.
func bytesToFree(fs cri.FsInfo, high, low int) int64 {
	if fs.CapacityBytes == 0 || fs.UsagePercent() < high {
		return 0
	}
	return int64(fs.CapacityBytes*uint64(100-low)/100) - int64(fs.AvailableBytes)
}
