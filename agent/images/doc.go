// Package images makes sure a container's image is on the node before the
// container is created, as imagePullPolicy says (Always, IfNotPresent,
// Never), with the credentials of the pod's imagePullSecrets
// (kubernetes.io/dockerconfigjson) for the image's registry.
//
// Failed pulls back off per image as kubelet's do: the first failure
// waits 10 s, each next one twice as long, at most 5 min; an image that has
// not failed for twice the maximum starts over. A failure is returned as an
// *Error whose Reason is the container's waiting reason (ErrImagePull,
// ImagePullBackOff, ErrImageNeverPull), and kubelet's events (Pulling,
// Pulled, Failed, BackOff, ErrImageNeverPull) are recorded on the pod.
//
// It keeps no state on disk: the back-off lives in memory, and the images
// themselves in the runtime.
package images
