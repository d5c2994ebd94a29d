package bridge

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"unsafe"
)

// Patterns in Rust processor configurations are Go patterns: they must be
// accepted or refused exactly as Go's regexp.Compile does (a repeat count
// over 1000, `x**`, a too large program), and match what Go's matches.
// Rust (rust/engine/src/go_regex.rs) therefore asks Go: this export
// parses the pattern with Go's regexp and returns it in Go's canonical
// syntax (classes spelled out, flags explicit), which the Rust regex
// engine compiles, or Go's error with the pattern cut to a readable
// length. Called from Rust only while a configuration is validated or
// created, never on the request path.

//export otelcolRustGoRegexNormalize
func otelcolRustGoRegexNormalize(pattern *C.uint8_t, n C.size_t, out **C.char, outLen *C.size_t) C.int {
	p := string(unsafe.Slice((*byte)(unsafe.Pointer(pattern)), int(n)))
	text, err := normalizeRegex(p)
	ok := C.int(1)
	if err != nil {
		text, ok = err.Error(), 0
	}
	// Rust copies the text and frees it with free().
	*out = (*C.char)(C.CBytes([]byte(text)))
	*outLen = C.size_t(len(text))
	return ok
}

// normalizeRegex returns pattern in Go's canonical syntax, or why Go's
// regexp refuses it.
func normalizeRegex(pattern string) (string, error) {
	if _, err := regexp.Compile(pattern); err != nil {
		return "", regexError(err)
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", regexError(err)
	}
	return re.String(), nil
}

// regexError is Go's error for a pattern, quoting at most quoteMax bytes
// of the part it names: Go's own message repeats it whole, and for an
// unclosed group that is the whole pattern, however long.
func regexError(err error) error {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %s", se.Code, quoteCut(se.Expr))
}

const quoteMax = 80

func quoteCut(s string) string {
	if len(s) <= quoteMax {
		return fmt.Sprintf("%q", s)
	}
	end := quoteMax
	for end > 0 && !utf8RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:end], len(s))
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
