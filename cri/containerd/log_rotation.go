package containerd

import (
	"fmt"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

// labelLogRotation holds a container's crilog.Rotation as
// "<max size>,<max files>"; absent: its log is never rotated.
const labelLogRotation = internalPrefix + "log-rotation"

// rotationLabel is the label value of rot; "" when it does not rotate.
func rotationLabel(rot crilog.Rotation) string {
	if !rot.Enabled() {
		return ""
	}
	return fmt.Sprintf("%d,%d", rot.MaxSize, rot.MaxFiles)
}

// rotationOf reads the rotation a container was created with.
func rotationOf(labels map[string]string) crilog.Rotation {
	var rot crilog.Rotation
	fmt.Sscanf(labels[labelLogRotation], "%d,%d", &rot.MaxSize, &rot.MaxFiles)
	if rot.Validate() != nil {
		return crilog.Rotation{}
	}
	return rot
}
