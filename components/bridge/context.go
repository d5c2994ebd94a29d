package bridge

/*
#include "otelcol_rust_bridge.h"
*/
import "C"

import (
	"context"
	"fmt"
	"net"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelcol-rust/otelcol-rust/components/internal/clientaddr"
)

// The request context crossing (rust/bridge/src/context.rs): what a
// context.Context carries besides deadline and cancellation, in the
// OtelcolRustContext buffer layout of the generated header. Go writes one
// per request that has something to carry; Rust writes one for an emission
// whose context Go rebuilds or updates.

// putC copies a C struct into buf at off (no alignment needed).
func putC[T any](buf []byte, off int, v *T) {
	copy(buf[off:], unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v)))
}

// getC copies a C struct out of buf at off, or fails when it does not fit.
func getC[T any](buf []byte, off int, v *T) error {
	n := int(unsafe.Sizeof(*v))
	if off < 0 || off > len(buf)-n {
		return fmt.Errorf("context from Rust: %d bytes at %d are past its end (%d)", n, off, len(buf))
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(v)), n), buf[off:off+n])
	return nil
}

type contextWriter struct{ buf []byte }

// reserve appends room for n C structs of the given size.
func (w *contextWriter) reserve(size uintptr, n int) C.OtelcolRustRange {
	off := len(w.buf)
	w.buf = append(w.buf, make([]byte, int(size)*n)...)
	return C.OtelcolRustRange{offset: C.uint32_t(off), len: C.uint32_t(n)}
}

func (w *contextWriter) bytes(s string) C.OtelcolRustRange {
	off := len(w.buf)
	w.buf = append(w.buf, s...)
	return C.OtelcolRustRange{offset: C.uint32_t(off), len: C.uint32_t(len(s))}
}

// strings writes each string and an array of their ranges.
func (w *contextWriter) strings(ss []string) C.OtelcolRustRange {
	var r C.OtelcolRustRange
	list := w.reserve(unsafe.Sizeof(r), len(ss))
	for i, s := range ss {
		r = w.bytes(s)
		putC(w.buf, int(list.offset)+i*int(unsafe.Sizeof(r)), &r)
	}
	return list
}

// encodeRequestContext writes what Rust's RequestContext carries of ctx:
// nil when there is nothing (no client info, no span context), so the
// common case costs nothing.
func encodeRequestContext(ctx context.Context, withAuth bool) []byte {
	info := client.FromContext(ctx)
	sc := trace.SpanContextFromContext(ctx)
	hasMetadata := false
	for range info.Metadata.Keys() {
		hasMetadata = true
		break
	}
	hasAuth := withAuth && info.Auth != nil
	hasClient := info.Addr != nil || hasMetadata || hasAuth
	if !hasClient && !sc.IsValid() {
		return nil
	}
	var head C.OtelcolRustContext
	w := &contextWriter{buf: make([]byte, 0, 256)}
	w.reserve(unsafe.Sizeof(head), 1)
	if sc.IsValid() {
		head.flags |= C.OTELCOL_RUST_CONTEXT_HAS_SPAN
		tid, sid := sc.TraceID(), sc.SpanID()
		for i := range tid {
			head.trace_id[i] = C.uint8_t(tid[i])
		}
		for i := range sid {
			head.span_id[i] = C.uint8_t(sid[i])
		}
		head.trace_flags = C.uint8_t(sc.TraceFlags())
		if sc.IsRemote() {
			head.remote = 1
		}
		head.trace_state = w.bytes(sc.TraceState().String())
	}
	if hasClient {
		head.flags |= C.OTELCOL_RUST_CONTEXT_HAS_CLIENT
		head.address = w.bytes(clientAddress(info.Addr))
		var keys []string
		for k := range info.Metadata.Keys() {
			keys = append(keys, k)
		}
		var entry C.OtelcolRustMetadataEntry
		head.metadata = w.reserve(unsafe.Sizeof(entry), len(keys))
		for i, k := range keys {
			entry.key = w.bytes(k)
			entry.values = w.strings(info.Metadata.Get(k))
			putC(w.buf, int(head.metadata.offset)+i*int(unsafe.Sizeof(entry)), &entry)
		}
		if hasAuth {
			head.auth = appendAuth(w, info.Auth)
		}
	}
	putC(w.buf, 0, &head)
	return w.buf
}

func appendAuth(w *contextWriter, auth client.AuthData) C.OtelcolRustRange {
	type attr struct {
		name string
		val  any
	}
	var attrs []attr
	for _, name := range auth.GetAttributeNames() {
		switch v := auth.GetAttribute(name).(type) {
		case string, []string:
			attrs = append(attrs, attr{name, v})
		}
	}
	var entry C.OtelcolRustAuthEntry
	list := w.reserve(unsafe.Sizeof(entry), len(attrs))
	for i, a := range attrs {
		entry = C.OtelcolRustAuthEntry{name: w.bytes(a.name)}
		switch v := a.val.(type) {
		case string:
			entry.kind = C.OTELCOL_RUST_AUTH_STRING
			entry.value = w.bytes(v)
		case []string:
			entry.kind = C.OTELCOL_RUST_AUTH_LIST
			entry.value = w.strings(v)
		}
		putC(w.buf, int(list.offset)+i*int(unsafe.Sizeof(entry)), &entry)
	}
	return list
}

// clientAddress is the peer IP as the Collector's processors see it
// (shared with the cgo-free path).
func clientAddress(addr net.Addr) string { return clientaddr.String(addr) }

func rangeBytes(buf []byte, r C.OtelcolRustRange) ([]byte, error) {
	start, n := int(r.offset), int(r.len)
	if start < 0 || n < 0 || start > len(buf)-n {
		return nil, fmt.Errorf("context from Rust: range %d+%d is past its end (%d)", start, n, len(buf))
	}
	return buf[start : start+n], nil
}

func rangeStrings(buf []byte, list C.OtelcolRustRange) ([]string, error) {
	var r C.OtelcolRustRange
	out := make([]string, 0, min(int(list.len), len(buf)))
	for i := 0; i < int(list.len); i++ {
		if err := getC(buf, int(list.offset)+i*int(unsafe.Sizeof(r)), &r); err != nil {
			return nil, err
		}
		b, err := rangeBytes(buf, r)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

// addrString is a peer address Rust sent back as text.
type addrString string

func (a addrString) Network() string { return "" }
func (a addrString) String() string  { return string(a) }

// decodeRequestContext reads a context buffer Rust wrote for an emission.
func decodeRequestContext(buf []byte) (info client.Info, sc trace.SpanContext, hasClient bool, err error) {
	var head C.OtelcolRustContext
	if err := getC(buf, 0, &head); err != nil {
		return info, sc, false, err
	}
	if head.flags&C.OTELCOL_RUST_CONTEXT_HAS_SPAN != 0 {
		var cfg trace.SpanContextConfig
		for i := range cfg.TraceID {
			cfg.TraceID[i] = byte(head.trace_id[i])
		}
		for i := range cfg.SpanID {
			cfg.SpanID[i] = byte(head.span_id[i])
		}
		cfg.TraceFlags = trace.TraceFlags(head.trace_flags)
		cfg.Remote = head.remote != 0
		state, err := rangeBytes(buf, head.trace_state)
		if err != nil {
			return info, sc, false, err
		}
		if ts, tsErr := trace.ParseTraceState(string(state)); tsErr == nil {
			cfg.TraceState = ts
		}
		sc = trace.NewSpanContext(cfg)
	}
	if head.flags&C.OTELCOL_RUST_CONTEXT_HAS_CLIENT != 0 {
		hasClient = true
		addr, err := rangeBytes(buf, head.address)
		if err != nil {
			return info, sc, false, err
		}
		if len(addr) > 0 {
			info.Addr = addrString(addr)
		}
		var entry C.OtelcolRustMetadataEntry
		md := make(map[string][]string, min(int(head.metadata.len), len(buf)))
		for i := 0; i < int(head.metadata.len); i++ {
			if err := getC(buf, int(head.metadata.offset)+i*int(unsafe.Sizeof(entry)), &entry); err != nil {
				return info, sc, false, err
			}
			key, err := rangeBytes(buf, entry.key)
			if err != nil {
				return info, sc, false, err
			}
			values, err := rangeStrings(buf, entry.values)
			if err != nil {
				return info, sc, false, err
			}
			md[string(key)] = values
		}
		info.Metadata = client.NewMetadata(md)
	}
	return info, sc, hasClient, nil
}

// emissionContext is the context an emission is delivered with: the
// request's own (with Rust's metadata change applied) when the data is the
// request's, else one rebuilt from what Rust sent (deadline, client info,
// span context). The returned cancel must be called after delivery.
func emissionContext(reqCtx context.Context, ownRequest, metadataChanged bool, encoded []byte, deadlineNanos int64) (context.Context, context.CancelFunc, error) {
	noop := func() {}
	if ownRequest && !metadataChanged {
		return reqCtx, noop, nil
	}
	var info client.Info
	var sc trace.SpanContext
	var hasClient bool
	if len(encoded) > 0 {
		var err error
		if info, sc, hasClient, err = decodeRequestContext(encoded); err != nil {
			return nil, noop, err
		}
	}
	if ownRequest {
		// The original context, every value in it, with the new metadata.
		// Auth stays Go's own.
		orig := client.FromContext(reqCtx)
		info.Auth = orig.Auth
		if info.Addr == nil {
			info.Addr = orig.Addr
		}
		return client.NewContext(reqCtx, info), noop, nil
	}
	ctx := context.Background()
	if hasClient {
		ctx = client.NewContext(ctx, info)
	}
	if sc.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	if deadlineNanos >= 0 {
		c, cancel := context.WithTimeout(ctx, time.Duration(deadlineNanos))
		return c, cancel, nil
	}
	return ctx, noop, nil
}
