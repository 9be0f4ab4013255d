package agent

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Scopes of a credential: read-only (monitoring) or read-write.
const (
	scopeRO = "ro"
	scopeRW = "rw"
)

// minTokenLength keeps guessable tokens out of the tokens file.
const minTokenLength = 16

// maxSessions bounds the tokens issued by the SSO endpoint that are alive
// at once, and maxUserSessions those of one user: a user over its bound
// loses its own session closest to expiry; when the table is full, the
// user with the most sessions loses one. So no user, whatever its scope,
// can end another's session by logging in again and again (an engine
// keeps one session; a few tools may share a user).
const (
	maxSessions     = 1024
	maxUserSessions = 64
)

// principal is who a request authenticated as.
type principal struct {
	name  string
	scope string
	// hash is, for an SSO session, the password hash it logged in with:
	// a reload that changes the password ends the session.
	hash string
}

// tokenKey is what tokens are stored under: their SHA-256, so that the
// lookup's timing says nothing about a token's bytes.
type tokenKey [sha256.Size]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// readPrivateFile reads a file of secrets, refusing one that anybody but
// its owner, who must be the daemon's own user (root), could read or
// change.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s is mode %04o: it holds secrets, so its group and others must have no access (chmod 600)", path, perm)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%s is owned by uid %d, not by hostnetd's user (uid %d)", path, st.Uid, os.Geteuid())
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// lines calls fn with each line of data that is neither blank nor a
// comment, and its number; errors name the file and the line.
func lines(path string, data []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func checkScope(s string) error {
	if s != scopeRO && s != scopeRW {
		return fmt.Errorf("scope %q: want ro or rw", s)
	}
	return nil
}

// loadTokens reads a tokens file: one "TOKEN SCOPE [NAME]" per line.
func loadTokens(path string) (map[tokenKey]principal, error) {
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	out := map[tokenKey]principal{}
	err = lines(path, data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			return errors.New("want TOKEN SCOPE [NAME]")
		}
		if len(f[0]) < minTokenLength {
			return fmt.Errorf("a token must have at least %d characters", minTokenLength)
		}
		if err := checkScope(f[1]); err != nil {
			return err
		}
		name := fmt.Sprintf("token-line-%d", n)
		if len(f) == 3 {
			name = f[2]
		}
		k := keyOf(f[0])
		if _, dup := out[k]; dup {
			return errors.New("the token is already listed")
		}
		out[k] = principal{name: name, scope: f[1]}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	return out, nil
}

// user is a password login of the SSO endpoint.
type user struct {
	hash  []byte
	scope string
}

// loadUsers reads a users file: one "USER:BCRYPT-HASH:SCOPE" per line
// (the first two fields are what `htpasswd -nB USER` prints).
func loadUsers(path string) (map[string]user, error) {
	data, err := readPrivateFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	out := map[string]user{}
	err = lines(path, data, func(_ int, line string) error {
		f := strings.Split(line, ":")
		if len(f) != 3 || f[0] == "" {
			return errors.New("want USER:BCRYPT-HASH:SCOPE")
		}
		if _, err := bcrypt.Cost([]byte(f[1])); err != nil {
			return fmt.Errorf("user %q: the password hash is not bcrypt: %w", f[0], err)
		}
		if err := checkScope(f[2]); err != nil {
			return err
		}
		if _, dup := out[f[0]]; dup {
			return fmt.Errorf("user %q is listed twice", f[0])
		}
		out[f[0]] = user{hash: []byte(f[1]), scope: f[2]}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	return out, nil
}

// dummyHash is compared against when the user is unknown, so that a login
// takes as long for a missing user as for a wrong password. It is made on
// first use: bcrypt is slow on purpose.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("hostnetd: no such user"), bcrypt.DefaultCost)
	return h
})

// checkPassword returns the user's scope if the password is right.
func checkPassword(users map[string]user, name, password string) (string, bool) {
	u, ok := users[name]
	hash := u.hash
	if !ok {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !ok {
		return "", false
	}
	return u.scope, true
}

// session is a token issued by the SSO endpoint.
type session struct {
	principal
	expires time.Time
}

// sessions are the live tokens issued by the SSO endpoint, in memory only:
// after a restart the SDKs get 401 and log in again, as they do when an
// engine's token expires.
type sessions struct {
	mu    sync.Mutex
	byKey map[tokenKey]session
}

// issue returns a new token for p, valid for ttl.
func (s *sessions) issue(p principal, ttl time.Duration, now time.Time) (string, time.Time) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(b[:])
	exp := now.Add(ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey == nil {
		s.byKey = map[tokenKey]session{}
	}
	s.makeRoomLocked(p.name, now)
	s.byKey[keyOf(token)] = session{principal: p, expires: exp}
	return token, exp
}

// makeRoomLocked makes room for one more session of user: it drops the
// expired sessions, then, if the user is at maxUserSessions, the user's
// own session that expires first, or else, if the table is full, the
// first to expire of the user who holds the most.
func (s *sessions) makeRoomLocked(user string, now time.Time) {
	perUser := map[string]int{}
	for k, v := range s.byKey {
		if !v.expires.After(now) {
			delete(s.byKey, k)
			continue
		}
		perUser[v.name]++
	}
	victim := ""
	switch {
	case perUser[user] >= maxUserSessions:
		victim = user
	case len(s.byKey) >= maxSessions:
		for name, n := range perUser {
			if victim == "" || n > perUser[victim] || n == perUser[victim] && name < victim {
				victim = name
			}
		}
	default:
		return
	}
	var first tokenKey
	var firstExp time.Time
	for k, v := range s.byKey {
		if v.name == victim && (firstExp.IsZero() || v.expires.Before(firstExp)) {
			first, firstExp = k, v.expires
		}
	}
	delete(s.byKey, first)
}

// lookup returns the live session of a token.
func (s *sessions) lookup(token string, now time.Time) (principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(token)
	v, ok := s.byKey[k]
	if !ok {
		return principal{}, false
	}
	if !v.expires.After(now) {
		delete(s.byKey, k)
		return principal{}, false
	}
	return v.principal, true
}

// revoke ends a token's session; it reports whether there was one.
// retain keeps the sessions whose principal keep accepts, and says how
// many it ended.
func (s *sessions) retain(keep func(principal) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ended := 0
	for k, v := range s.byKey {
		if !keep(v.principal) {
			delete(s.byKey, k)
			ended++
		}
	}
	return ended
}

func (s *sessions) revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(token)
	_, ok := s.byKey[k]
	delete(s.byKey, k)
	return ok
}
