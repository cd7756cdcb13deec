package conformance

import (
	"errors"
	"slices"
	"strings"

	"github.com/nodeagent/nodeagent/cri"
)

func testVersion(s *suite) {
	v, err := s.rt.Version(s.ctx)
	if err != nil {
		s.t.Fatalf("Version: %v", err)
	}
	if name, ver, ok := strings.Cut(v, "://"); !ok || name == "" || ver == "" {
		s.t.Errorf("Version() = %q, want <runtime>://<version>", v)
	}
}

func testImages(s *suite) {
	id := s.pull()
	img, err := s.rt.ImageStatus(s.ctx, s.env.Image)
	if err != nil {
		s.t.Fatalf("ImageStatus(%s): %v", s.env.Image, err)
	}
	if img.ID != id || !slices.Contains(img.Refs, s.env.Image) || img.Size <= 0 {
		s.t.Errorf("ImageStatus(%s) = %+v, want ID %s, that ref and a size", s.env.Image, img, id)
	}
	byID, err := s.rt.ImageStatus(s.ctx, id)
	if err != nil || byID.ID != id {
		s.t.Errorf("ImageStatus(ID %s) = %+v, %v", id, byID, err)
	}
	again := s.pull()
	if again != id {
		s.t.Errorf("second PullImage returned ID %s, first %s", again, id)
	}
	list, err := s.rt.ListImages(s.ctx)
	if err != nil {
		s.t.Fatalf("ListImages: %v", err)
	}
	if !slices.ContainsFunc(list, func(i cri.Image) bool { return i.ID == id }) {
		s.t.Errorf("ListImages() = %+v, want one with ID %s", list, id)
	}
	if err := s.rt.RemoveImage(s.ctx, s.env.Image); err != nil {
		s.t.Fatalf("RemoveImage: %v", err)
	}
	if _, err := s.rt.ImageStatus(s.ctx, s.env.Image); !errors.Is(err, cri.ErrNotFound) {
		s.t.Errorf("ImageStatus after RemoveImage: err = %v, want ErrNotFound", err)
	}
	if err := s.rt.RemoveImage(s.ctx, s.env.Image); err != nil {
		s.t.Errorf("RemoveImage of a removed image: %v, want nil", err)
	}
}
