package search

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tokWord tokKind = iota
	tokQuoted
	tokOp
	tokColon
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a search into words, quoted values (without their
// quotes), operators and the colon of the entity prefix.
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%w: a quote is not closed", ErrSyntax)
			}
			out = append(out, token{tokQuoted, s[i+1 : i+1+end]})
			i += end + 2
		case c == '!' || c == '<' || c == '>' || c == '=':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' && c != '=' {
				op += "="
			} else if c == '!' {
				return nil, fmt.Errorf("%w: ! without =", ErrSyntax)
			}
			out = append(out, token{tokOp, op})
			i += len(op)
		case c == ':' && len(out) == 1 && out[0].kind == tokWord:
			out = append(out, token{tokColon, ":"})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r\"!<>=", rune(s[j])) && !(s[j] == ':' && len(out) == 0) {
				j++
			}
			out = append(out, token{tokWord, s[i:j]})
			i = j
		}
	}
	return out, nil
}
