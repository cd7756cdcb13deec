package containerd

import (
	"testing"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

func TestRotationLabelRoundTrip(t *testing.T) {
	for _, rot := range []crilog.Rotation{{}, {MaxSize: 10 << 20, MaxFiles: 5}} {
		labels := map[string]string{}
		setIfNotEmpty(labels, labelLogRotation, rotationLabel(rot))
		if got := rotationOf(labels); got != rot {
			t.Errorf("rotation %+v came back as %+v", rot, got)
		}
	}
	if got := rotationOf(map[string]string{labelLogRotation: "10,1"}); got.Enabled() {
		t.Errorf("an invalid label gave %+v", got)
	}
}
