// Package crilog writes and reads container logs in the CRI format the
// kubelet reads: one record per line,
//
//	<RFC 3339 time, 9 digits> <stdout|stderr> <F|P> <content>
//
// where F ends a line of the container's output and P is a part of a line
// too long for one record (MaxLine), continued by the next record of the
// same stream. The writer (Writer, AppendRecords) is what the runtime's
// logger uses; the reader (Read) is what the agent's log API and a
// runtime's attach to a container without stdio use: it streams records
// (it never holds the file), finds the tail by reading backwards from the
// end, and follows a growing file.
//
// A log rotates as kubelet's containerLogMaxSize and containerLogMaxFiles
// say (Rotation, File): the writer itself renames the file
// <path>.<time> when the next records would not fit and starts a new one,
// cutting between records, so no line is lost or split across files and
// the bound holds whatever the writer's speed; it keeps the newest
// MaxFiles-1 rotated files. Read reads the file at the path, as kubelet
// does; a followed read goes on across rotations, from each file to the
// one that followed it.
package crilog
