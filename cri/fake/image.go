package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
)

// ImageSize is the size of an image the fake pulls or adds (SetImageSize
// changes it).
const ImageSize = 1 << 20

// DefaultImageFsCapacity is the image filesystem's size until SetImageFs.
const DefaultImageFsCapacity = 100 << 30

// ImageFsPath is the path ImageFsInfo reports.
const ImageFsPath = "/fake/imagefs"

// PullImage implements cri.Runtime. It fails with the error queued by
// FailNextPull for ref, if any. An image's ID is derived from its first ref.
func (f *Fake) PullImage(ctx context.Context, ref string, auth *cri.AuthConfig) (string, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("PullImage"); err != nil {
		return "", err
	}
	if errs := s.pullErrs[ref]; len(errs) > 0 {
		s.pullErrs[ref] = errs[1:]
		return "", errs[0]
	}
	return s.addImage(ref).ID, nil
}

// addImage stores ref, or returns the image that has it; the caller holds
// the lock.
func (s *state) addImage(ref string) *cri.Image {
	if img := s.findImage(ref); img != nil {
		return img
	}
	sum := sha256.Sum256([]byte(ref))
	img := &cri.Image{ID: "sha256:" + hex.EncodeToString(sum[:]), Refs: []string{ref}, Size: ImageSize}
	s.images[img.ID] = img
	return img
}

// findImage returns the image whose ID or one of whose refs is ref, or nil;
// the caller holds the lock.
func (s *state) findImage(ref string) *cri.Image {
	if img, ok := s.images[ref]; ok {
		return img
	}
	for _, img := range s.images {
		if slices.Contains(img.Refs, ref) {
			return img
		}
	}
	return nil
}

// ImageStatus implements cri.Runtime; ref is a reference or an image ID.
func (f *Fake) ImageStatus(ctx context.Context, ref string) (cri.Image, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ImageStatus"); err != nil {
		return cri.Image{}, err
	}
	img := s.findImage(ref)
	if img == nil {
		return cri.Image{}, notFound("image", ref)
	}
	return copyImage(img), nil
}

// ListImages implements cri.Runtime, ordered by ID.
func (f *Fake) ListImages(ctx context.Context) ([]cri.Image, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ListImages"); err != nil {
		return nil, err
	}
	var out []cri.Image
	for _, img := range s.images {
		out = append(out, copyImage(img))
	}
	slices.SortFunc(out, func(a, b cri.Image) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RemoveImage implements cri.Runtime: the image goes with all its refs;
// removing one that is gone is not an error.
func (f *Fake) RemoveImage(ctx context.Context, ref string) error {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("RemoveImage"); err != nil {
		return err
	}
	if img := s.findImage(ref); img != nil {
		delete(s.images, img.ID)
	}
	return nil
}

func copyImage(img *cri.Image) cri.Image {
	out := *img
	out.Refs = slices.Clone(img.Refs)
	return out
}

// ImageFsInfo implements cri.Runtime: a filesystem of the capacity
// SetImageFs set, on which the images take their sizes and something else
// what SetImageFs said; it is never more than full.
func (f *Fake) ImageFsInfo(ctx context.Context) (cri.FsInfo, error) {
	s := f.st
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.takeFailure("ImageFsInfo"); err != nil {
		return cri.FsInfo{}, err
	}
	var used uint64
	for _, img := range s.images {
		used += uint64(max(img.Size, 0))
	}
	taken := min(used+s.imageFsOther, s.imageFsCapacity)
	return cri.FsInfo{Path: ImageFsPath, CapacityBytes: s.imageFsCapacity, AvailableBytes: s.imageFsCapacity - taken,
		UsedBytes: used, Inodes: 1 << 20, InodesFree: 1<<20 - uint64(len(s.images))}, nil
}
