package prober

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolvePort(t *testing.T) {
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "bad", ContainerPort: 70000}}}
	for _, tc := range []struct {
		port    intstr.IntOrString
		want    int
		wantErr string
	}{
		{port: intstr.FromInt32(80), want: 80},
		{port: intstr.FromString("http"), want: 8080},
		{port: intstr.FromString("9090"), want: 9090}, // a number written as a string
		{port: intstr.FromString("grpc"), want: -1, wantErr: "port grpc not found in container app"},
		{port: intstr.FromInt32(0), want: 0, wantErr: "invalid port number: 0"},
		{port: intstr.FromInt32(65536), want: 65536, wantErr: "invalid port number: 65536"},
		{port: intstr.FromString("bad"), want: 70000, wantErr: "invalid port number: 70000"},
	} {
		got, err := ResolvePort(tc.port, c)
		if got != tc.want || errString(err) != tc.wantErr {
			t.Errorf("ResolvePort(%v) = %d, %v; want %d, %q", tc.port.String(), got, err, tc.want, tc.wantErr)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
