package main

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

func TestImageIsDeterministicAndComplete(t *testing.T) {
	in := Inputs{Server: []byte("server"), Busybox: []byte("bb"), Applets: []string{"sh", "ls", "busybox", "wget"}}
	a, err := Image(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Image(in)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("same inputs, different digests: %s %s", da, db)
	}
	in.Server = []byte("server2")
	c, _ := Image(in)
	if dc, _ := c.Digest(); dc == da {
		t.Fatal("changed server binary, same digest")
	}

	cfg, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/usr/local/bin/testserver" {
		t.Fatalf("entrypoint %v", got)
	}
	layers, _ := a.Layers()
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, _ := layers[0].Uncompressed()
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		if h.Name == "usr/local/bin/testserver" {
			body, _ := io.ReadAll(tr)
			if !bytes.Equal(body, []byte("server")) || h.Mode&0o111 == 0 {
				t.Errorf("testserver body %q mode %o", body, h.Mode)
			}
		}
	}
	if h := files["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
		t.Errorf("bin/sh should link to busybox: %+v", h)
	}
	if h := files["bin/busybox"]; h == nil || h.Typeflag != tar.TypeReg {
		t.Errorf("bin/busybox should be the binary, not a link: %+v", h)
	}
	if files["tmp/"] == nil || files["etc/passwd"] == nil {
		t.Error("missing /tmp or /etc/passwd")
	}
}
