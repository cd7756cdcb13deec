package containerd

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	transferimage "github.com/containerd/containerd/v2/core/transfer/image"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/nodeagent/nodeagent/cri"
)

// An image's ID is the digest of its config, as in the CRI: every name
// (containerd image record) with the same config is the same image.

// PullImage implements cri.Runtime. The pull runs inside containerd (its
// transfer service), not in this process: the registry is reached from
// containerd's network namespace, as kubelet's pulls are, even when the
// agent runs in a lab node's namespace. Registries on localhost and
// 127.0.0.1 are spoken to over plain HTTP; the image is unpacked for the
// snapshotter.
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *cri.AuthConfig) (string, error) {
	ctx = r.ns(ctx)
	name := normalizeRef(ref)
	var opts []registry.Opt
	if auth != nil {
		opts = append(opts, registry.WithCredentials(staticCreds{auth}))
	}
	src, err := registry.NewOCIRegistry(ctx, name, opts...)
	if err != nil {
		return "", wrap(err, "pull image %s", ref)
	}
	dst := transferimage.NewStore(name, transferimage.WithUnpack(platforms.DefaultSpec(), r.cfg.Snapshotter))
	if err := r.client.Transfer(ctx, src, dst); err != nil {
		return "", wrap(err, "pull image %s", ref)
	}
	img, err := r.client.GetImage(ctx, name)
	if err != nil {
		return "", wrap(err, "pull image %s", ref)
	}
	id, err := configDigest(ctx, img)
	return id, wrap(err, "pull image %s", ref)
}

// staticCreds gives the same credentials for every host of one pull.
type staticCreds struct{ auth *cri.AuthConfig }

func (c staticCreds) GetCredentials(_ context.Context, _, host string) (registry.Credentials, error) {
	return registry.Credentials{Host: host, Username: c.auth.Username, Secret: c.auth.Password}, nil
}

// normalizeRef completes a short reference ("busybox" becomes
// "docker.io/library/busybox:latest"); what does not parse is kept.
func normalizeRef(ref string) string {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return ref
	}
	return named.String()
}

func isImageID(ref string) bool { return strings.HasPrefix(ref, "sha256:") }

// configDigest is an image's ID.
func configDigest(ctx context.Context, img client.Image) (string, error) {
	desc, err := img.Config(ctx)
	if err != nil {
		return "", fmt.Errorf("read config of %s: %w", img.Name(), err)
	}
	return desc.Digest.String(), nil
}

// ImageStatus implements cri.Runtime; ref is a reference or an image ID.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (cri.Image, error) {
	all, err := r.ListImages(ctx)
	if err != nil {
		return cri.Image{}, err
	}
	name := normalizeRef(ref)
	for _, img := range all {
		if img.ID == ref || slices.Contains(img.Refs, name) {
			return img, nil
		}
	}
	return cri.Image{}, fmt.Errorf("image %s: %w", ref, cri.ErrNotFound)
}

// ListImages implements cri.Runtime, ordered by ID.
func (r *Runtime) ListImages(ctx context.Context) ([]cri.Image, error) {
	ctx = r.ns(ctx)
	imgs, err := r.client.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	byID := map[string]*cri.Image{}
	for _, img := range imgs {
		id, err := configDigest(ctx, img)
		if err != nil {
			r.log.Warn("skipping an image whose config cannot be read", "image", img.Name(), "err", err)
			continue
		}
		if byID[id] == nil {
			size, _ := img.Size(ctx)
			byID[id] = &cri.Image{ID: id, Size: size}
		}
		byID[id].Refs = append(byID[id].Refs, img.Name())
	}
	out := make([]cri.Image, 0, len(byID))
	for _, img := range byID {
		slices.Sort(img.Refs)
		out = append(out, *img)
	}
	slices.SortFunc(out, func(a, b cri.Image) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RemoveImage implements cri.Runtime: every name of the image goes, and
// containerd collects its content before this returns. Removing an image
// that is gone is not an error.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	img, err := r.ImageStatus(ctx, ref)
	if err != nil {
		return ignoreCRINotFound(err)
	}
	store := r.client.ImageService()
	for _, name := range img.Refs {
		err := store.Delete(r.ns(ctx), name, images.SynchronousDelete())
		if err := ignoreNotFound(err); err != nil {
			return fmt.Errorf("remove image %s (%s): %w", ref, name, err)
		}
	}
	return nil
}

// imageConfig is what creating a container needs from its image.
type imageConfig struct {
	image           client.Image
	id              string
	entrypoint, cmd []string
	stopSignal      string
}

// containerImage finds ref (a reference or an image ID), unpacks it for the
// snapshotter if needed and reads its config.
func (r *Runtime) containerImage(ctx context.Context, ref string) (imageConfig, error) {
	name := normalizeRef(ref)
	if isImageID(ref) {
		st, err := r.ImageStatus(ctx, ref)
		if err != nil {
			return imageConfig{}, err
		}
		name = st.Refs[0]
	}
	img, err := r.client.GetImage(ctx, name)
	if err != nil {
		return imageConfig{}, wrap(err, "image %s", ref)
	}
	if err := r.unpack(ctx, img); err != nil {
		return imageConfig{}, err
	}
	return readImageConfig(ctx, img)
}

func (r *Runtime) unpack(ctx context.Context, img client.Image) error {
	ok, err := img.IsUnpacked(ctx, r.cfg.Snapshotter)
	if err == nil && !ok {
		err = img.Unpack(ctx, r.cfg.Snapshotter)
	}
	return wrap(err, "unpack image %s", img.Name())
}

func readImageConfig(ctx context.Context, img client.Image) (imageConfig, error) {
	desc, err := img.Config(ctx)
	if err != nil {
		return imageConfig{}, fmt.Errorf("read config of image %s: %w", img.Name(), err)
	}
	blob, err := content.ReadBlob(ctx, img.ContentStore(), desc)
	if err != nil {
		return imageConfig{}, fmt.Errorf("read config of image %s: %w", img.Name(), err)
	}
	var spec ocispec.Image
	if err := json.Unmarshal(blob, &spec); err != nil {
		return imageConfig{}, fmt.Errorf("decode config of image %s: %w", img.Name(), err)
	}
	return imageConfig{
		image: img, id: desc.Digest.String(),
		entrypoint: spec.Config.Entrypoint, cmd: spec.Config.Cmd, stopSignal: spec.Config.StopSignal,
	}, nil
}
