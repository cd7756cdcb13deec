package volumemanager

import (
	"context"
	"errors"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/nodeagent/nodeagent/api/localvolume"
)

// waitingError is a wait for another component, not a failure of the
// node's: the volume is not attached yet. The stage is tried again soon
// (waitBackoff, not the failure back-off) and no FailedMount event is
// recorded: as kubelet waits for its attachment, the attach/detach
// controller says why (FailedAttachVolume, Multi-Attach error).
type waitingError struct{ msg string }

func (e *waitingError) Error() string { return e.msg }

func waitingf(format string, args ...any) error {
	return &waitingError{msg: fmt.Sprintf(format, args...)}
}

func isWaiting(err error) bool {
	var w *waitingError
	return errors.As(err, &w)
}

// waitAttached checks, before a stage, that the volume's VolumeAttachment
// to this node says attached (kube's CSI attacher: the name is
// csi-<sha256(handle, driver, node)>). A volume of a driver whose
// CSIDriver says attachRequired: false needs none; without a CSIDriver
// object, attachment is required, as the controller and kubelet hold.
func (m *Manager) waitAttached(ctx context.Context, c *csiVolume) error {
	if !c.csiSource {
		return nil // spec.local: nothing to attach, as in kube
	}
	name := localvolume.AttachmentName(c.key.handle, c.key.driver, m.cfg.NodeName)
	va, err := m.cfg.Control.Attachment(ctx, name)
	if apierrors.IsNotFound(err) {
		if required, err := m.attachRequired(ctx, c.key.driver); err != nil || !required {
			return err
		}
		return waitingf("volume %q is not attached to node %q yet: VolumeAttachment %s not found", c.pvName, m.cfg.NodeName, name)
	}
	if err != nil {
		return fmt.Errorf("get VolumeAttachment %s of volume %q: %w", name, c.pvName, err)
	}
	return checkAttachment(va, c, m.cfg.NodeName)
}

func (m *Manager) attachRequired(ctx context.Context, driver string) (bool, error) {
	d, err := m.cfg.Control.CSIDriver(ctx, driver)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get CSIDriver %s: %w", driver, err)
	}
	return d.Spec.AttachRequired == nil || *d.Spec.AttachRequired, nil
}

// checkAttachment: the attachment is this volume's to this node, not
// being deleted, and attached.
func checkAttachment(va *storagev1.VolumeAttachment, c *csiVolume, node string) error {
	src := va.Spec.Source.PersistentVolumeName
	switch {
	case va.Spec.Attacher != c.key.driver || va.Spec.NodeName != node || src == nil || *src != c.pvName:
		return fmt.Errorf("VolumeAttachment %s is not the attachment of volume %q to node %q (attacher %q, node %q)",
			va.Name, c.pvName, node, va.Spec.Attacher, va.Spec.NodeName)
	case va.DeletionTimestamp != nil:
		return waitingf("volume %q is being detached from node %q: VolumeAttachment %s is being deleted", c.pvName, node, va.Name)
	case va.Status.Attached:
		return nil
	case va.Status.AttachError != nil:
		return waitingf("volume %q is not attached to node %q: %s", c.pvName, node, va.Status.AttachError.Message)
	}
	return waitingf("volume %q is not attached to node %q yet", c.pvName, node)
}
