package containerd

import (
	"errors"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/nodeagent/nodeagent/cri"
)

// wrap names the object of a failed operation; containerd's NotFound also
// becomes cri.ErrNotFound, with containerd's text kept as the cause.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("%s: %w (%w)", what, cri.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ignoreNotFound returns nil for containerd's NotFound, else err.
func ignoreNotFound(err error) error {
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// ignoreCRINotFound returns nil for cri.ErrNotFound, else err.
func ignoreCRINotFound(err error) error {
	if errors.Is(err, cri.ErrNotFound) {
		return nil
	}
	return err
}
