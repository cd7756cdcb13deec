package main

import (
	"archive/tar"
	"bytes"
	"io"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Inputs are the binaries the image is made of.
type Inputs struct {
	Server  []byte   // static testserver
	Busybox []byte   // static busybox
	Applets []string // busybox applet names, each linked to /bin/busybox
}

// epoch is every file's mtime, so that the same inputs give the same digest.
var epoch = time.Unix(0, 0).UTC()

// entry is one file, directory or symlink of the image's single layer.
type entry struct {
	path string
	mode int64
	typ  byte
	body []byte
	link string
}

// Entries lists the image's filesystem, sorted by path.
func Entries(in Inputs) []entry {
	es := []entry{
		{path: "bin/", mode: 0o755, typ: tar.TypeDir},
		{path: "bin/busybox", mode: 0o755, typ: tar.TypeReg, body: in.Busybox},
		{path: "etc/", mode: 0o755, typ: tar.TypeDir},
		{path: "etc/passwd", mode: 0o644, typ: tar.TypeReg, body: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{path: "etc/group", mode: 0o644, typ: tar.TypeReg, body: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{path: "root/", mode: 0o700, typ: tar.TypeDir},
		{path: "tmp/", mode: 0o1777, typ: tar.TypeDir},
		{path: "usr/", mode: 0o755, typ: tar.TypeDir},
		{path: "usr/local/", mode: 0o755, typ: tar.TypeDir},
		{path: "usr/local/bin/", mode: 0o755, typ: tar.TypeDir},
		{path: "usr/local/bin/testserver", mode: 0o755, typ: tar.TypeReg, body: in.Server},
	}
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.path] = true
	}
	for _, a := range in.Applets {
		p := "bin/" + a
		if a == "" || seen[p] {
			continue
		}
		seen[p] = true
		es = append(es, entry{path: p, mode: 0o777, typ: tar.TypeSymlink, link: "busybox"})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].path < es[j].path })
	return es
}

// LayerTar writes the entries as an uncompressed tar stream.
func LayerTar(es []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		hdr := &tar.Header{Name: e.path, Mode: e.mode, Typeflag: e.typ, Linkname: e.link,
			Size: int64(len(e.body)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

// Image builds the test image: one layer, testserver as entrypoint.
func Image(in Inputs) (v1.Image, error) {
	data, err := LayerTar(Entries(in))
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigFile(img, imageConfig(img))
}

func imageConfig(img v1.Image) *v1.ConfigFile {
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.Created = "amd64", "linux", v1.Time{Time: epoch}
	cfg.Config = v1.Config{
		Entrypoint:   []string{"/usr/local/bin/testserver"},
		Cmd:          []string{"serve"},
		Env:          []string{"PATH=/usr/local/bin:/bin"},
		WorkingDir:   "/",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9000/tcp": {}, "9001/udp": {}},
		Labels:       map[string]string{"org.opencontainers.image.title": "nodeagent testserver"},
	}
	return cfg
}
