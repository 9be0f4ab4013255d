package netconf

import "github.com/google/uuid"

// StableID derives a stable name-based (version 5) UUID from a name: the same
// name gives the same id in every run, so ids survive restarts.
func StableID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("hostnetd/"+name)).String()
}
