package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// KeyType names one of a policy's two keys, as Azure's regenerateKeys operation does.
type KeyType string

// The two keys of a shared access policy.
const (
	PrimaryKey   KeyType = "PrimaryKey"
	SecondaryKey KeyType = "SecondaryKey"
)

// RegenerateKey replaces one key of every policy called policyName (namespace- or entity-level,
// in every namespace) like Azure's regenerateKeys operation: with key when it is given, else
// with a new random 44-character key, which it returns. Tokens signed with the old key are
// refused from the next put-token on: this is how tests and demos rotate a key behind the
// portal's back. Connection strings listed by ConnectionStrings keep showing the configured
// keys.
func (s *Server) RegenerateKey(policyName string, which KeyType, key string) (string, error) {
	if which != PrimaryKey && which != SecondaryKey {
		return "", fmt.Errorf("regenerate key: key type must be %s or %s", PrimaryKey, SecondaryKey)
	}
	if key == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		key = base64.StdEncoding.EncodeToString(b)
	}
	if len(key) < 16 || len(key) > 256 {
		return "", fmt.Errorf("regenerate key: a key is 16 to 256 characters")
	}
	name := strings.ToLower(policyName)
	found := false
	set := func(ps map[string]policy) {
		if p, ok := ps[name]; ok {
			if which == PrimaryKey {
				p.primary = key
			} else {
				p.secondary = key
			}
			ps[name] = p
			found = true
		}
	}
	for _, ns := range s.namespaces {
		ns.keysMu.Lock()
		set(ns.policies)
		for _, e := range ns.entities {
			set(e.policies)
		}
		ns.keysMu.Unlock()
	}
	if !found {
		return "", fmt.Errorf("regenerate key: no shared access policy named %q", policyName)
	}
	return key, nil
}
