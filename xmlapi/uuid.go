package xmlapi

import "github.com/google/uuid"

// StableID derives a stable name-based (version 5) UUID from a name, so an
// entity named the same way gets the same id in every run.
func StableID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("hostnetd/"+name)).String()
}
