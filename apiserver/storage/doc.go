// Package storage keeps API objects in etcd, the way kube-apiserver does:
// one key per object, /registry/<resource>/<namespace>/<name> (cluster-scoped
// objects leave out the namespace), the value the object's JSON, and the
// object's resourceVersion the etcd revision that last modified the key.
//
// Writes are compare-and-swap transactions on the key's mod revision, so a
// stale update is a Conflict and nothing is ever partly written. Lists read
// one consistent revision (continue tokens carry it); watches resume from any
// revision still in etcd's history and report Expired (410) once it has been
// compacted. A Compactor compacts history periodically.
//
// A Store may be Linked: then every write of an object also carries the
// comparisons and operations the Linked plan returns for it (the Services'
// IP and port allocation keys), in the same transaction.
//
// A store may keep a watch cache (StartCache, kube-apiserver's cacher):
// one etcd watch per store feeds its current objects and a window of
// recent events in memory. Lists of the current state are served from it
// once it has caught up with etcd's revision at the time of the list (a
// progress notification tells a store nothing wrote to that it is
// current), through an index when the list's Hints name an indexed field
// or a label; every watch is fed from the window. Objects in the cache are
// shared: callers that promise not to modify them (Shared) get them
// as they are, the others copies.
//
// The package knows nothing of HTTP or of kinds: the caller gives each Store
// a constructor for its objects and turns the errors here into API statuses
// with the predicates IsNotFound, IsExists, IsConflict and IsExpired.
package storage
