package cli

import (
	"context"
	"errors"
	"flag"
	"testing"
	"time"
)

func TestPickKeepsExplicitFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	a := fs.Int("a", 10, "")
	b := fs.Int("b", 20, "")
	d := fs.Duration("d", time.Second, "")
	if err := fs.Parse([]string{"-a", "7"}); err != nil {
		t.Fatal(err)
	}
	q := NewQuick(fs)
	Pick(q, "a", a, 1)
	Pick(q, "b", b, 2)
	Pick(q, "d", d, time.Millisecond)
	if *a != 7 || *b != 2 || *d != time.Millisecond {
		t.Errorf("a=%d b=%d d=%s, want 7 (explicit), 2 and 1ms (quick)", *a, *b, *d)
	}
}

func TestNewFlagSet(t *testing.T) {
	bin, timeout := "bin/nodeagent", time.Minute
	fs, quick := NewFlagSet("t", &bin, "binary", &timeout)
	if err := fs.Parse([]string{"--bin", "/x", "--timeout", "2s", "--quick"}); err != nil {
		t.Fatal(err)
	}
	if bin != "/x" || timeout != 2*time.Second || !*quick {
		t.Errorf("bin %q timeout %s quick %v, want /x 2s true", bin, timeout, *quick)
	}
	fs, _ = NewFlagSet("t", nil, "", &timeout)
	if fs.Lookup("bin") != nil {
		t.Error("--bin declared with a nil bin")
	}
}

func TestTimed(t *testing.T) {
	var reported int
	err := Timed(context.Background(), time.Minute, func(ctx context.Context) (int, error) {
		if _, ok := ctx.Deadline(); !ok {
			return 0, errors.New("no deadline")
		}
		return 42, nil
	}, func(r int, started time.Time) { reported = r })
	if err != nil || reported != 42 {
		t.Errorf("Timed = %v, reported %d; want nil, 42", err, reported)
	}
	boom := errors.New("boom")
	err = Timed(context.Background(), time.Minute, func(context.Context) (int, error) { return 0, boom },
		func(int, time.Time) { t.Error("report called after a failed run") })
	if !errors.Is(err, boom) {
		t.Errorf("Timed = %v, want boom", err)
	}
}
