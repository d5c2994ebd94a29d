package bridge

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/otel/trace"
)

// The encoding of a request's client info and span context that crosses to
// Rust with each request and comes back with emissions. Layout:
// rust/bridge/src/wire.rs.
const (
	wireVersion   = 1
	wireHasSpan   = 1
	wireHasClient = 2
)

// encodeRequestContext writes what Rust's Context carries of ctx besides
// deadline and cancellation: nil when there is nothing (no client info, no
// span context), so the common case costs nothing.
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
	out := make([]byte, 0, 128)
	var flags byte
	if sc.IsValid() {
		flags |= wireHasSpan
	}
	if hasClient {
		flags |= wireHasClient
	}
	out = append(out, wireVersion, flags)
	if sc.IsValid() {
		tid, sid := sc.TraceID(), sc.SpanID()
		out = append(out, tid[:]...)
		out = append(out, sid[:]...)
		remote := byte(0)
		if sc.IsRemote() {
			remote = 1
		}
		out = append(out, byte(sc.TraceFlags()), remote)
		out = putString(out, sc.TraceState().String())
	}
	if hasClient {
		out = putString(out, clientAddress(info.Addr))
		var keys []string
		for k := range info.Metadata.Keys() {
			keys = append(keys, k)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(keys)))
		for _, k := range keys {
			out = putString(out, k)
			out = putStrings(out, info.Metadata.Get(k))
		}
		out = appendAuth(out, info.Auth, hasAuth)
	}
	return out
}

func appendAuth(out []byte, auth client.AuthData, include bool) []byte {
	if !include {
		return binary.LittleEndian.AppendUint32(out, 0)
	}
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
	out = binary.LittleEndian.AppendUint32(out, uint32(len(attrs)))
	for _, a := range attrs {
		out = putString(out, a.name)
		switch v := a.val.(type) {
		case string:
			out = append(out, 0)
			out = putString(out, v)
		case []string:
			out = append(out, 1)
			out = putStrings(out, v)
		}
	}
	return out
}

// clientAddress is the peer IP as the Collector's processors see it
// (contrib's clientutil.Address): the IP of IP addresses, the host part of
// host:port strings that parse as IPs, the string otherwise.
func clientAddress(addr net.Addr) string {
	switch a := addr.(type) {
	case nil:
		return ""
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	case *net.IPAddr:
		return a.IP.String()
	}
	s := addr.String()
	if host, _, err := net.SplitHostPort(s); err == nil && net.ParseIP(host) != nil {
		return host
	}
	return s
}

func putString(out []byte, s string) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(len(s)))
	return append(out, s...)
}

func putStrings(out []byte, ss []string) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(len(ss)))
	for _, s := range ss {
		out = putString(out, s)
	}
	return out
}

type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = errors.New("truncated context from Rust")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *wireReader) u8() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *wireReader) u32() int {
	if b := r.take(4); b != nil {
		return int(binary.LittleEndian.Uint32(b))
	}
	return 0
}

func (r *wireReader) str() string { return string(r.take(r.u32())) }

func (r *wireReader) strs() []string {
	n := r.u32()
	out := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.str())
	}
	return out
}

// addrString is a peer address Rust sent back as text.
type addrString string

func (a addrString) Network() string { return "" }
func (a addrString) String() string  { return string(a) }

// decodeRequestContext reads a context Rust encoded for an emission.
func decodeRequestContext(b []byte) (info client.Info, sc trace.SpanContext, hasClient bool, err error) {
	r := &wireReader{b: b}
	if v := r.u8(); v != wireVersion && r.err == nil {
		return info, sc, false, fmt.Errorf("context from Rust has version %d, want %d", v, wireVersion)
	}
	flags := r.u8()
	if flags&wireHasSpan != 0 {
		var cfg trace.SpanContextConfig
		copy(cfg.TraceID[:], r.take(16))
		copy(cfg.SpanID[:], r.take(8))
		cfg.TraceFlags = trace.TraceFlags(r.u8())
		cfg.Remote = r.u8() != 0
		if ts, tsErr := trace.ParseTraceState(r.str()); tsErr == nil {
			cfg.TraceState = ts
		}
		sc = trace.NewSpanContext(cfg)
	}
	if flags&wireHasClient != 0 {
		hasClient = true
		if addr := r.str(); addr != "" {
			info.Addr = addrString(addr)
		}
		n := r.u32()
		md := make(map[string][]string, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str()
			md[k] = r.strs()
		}
		info.Metadata = client.NewMetadata(md)
		// Auth never travels back to Go.
		r.u32()
	}
	return info, sc, hasClient, r.err
}

// emissionContext is the context an emission is delivered with: the
// request's own while it is in flight (with Rust's metadata change
// applied), else one rebuilt from what Rust sent (deadline, client info,
// span context). The returned cancel must be called after delivery.
func emissionContext(req *request, e Emission) (context.Context, context.CancelFunc, error) {
	noop := func() {}
	var encoded []byte
	if e.ctx_len > 0 {
		encoded = copyFromRust(e.ctx_ptr, e.ctx_len)
	}
	if req != nil && !e.metadata_changed {
		return req.ctx, noop, nil
	}
	var info client.Info
	var sc trace.SpanContext
	var hasClient bool
	if encoded != nil {
		var err error
		if info, sc, hasClient, err = decodeRequestContext(encoded); err != nil {
			return nil, noop, err
		}
	}
	if req != nil {
		// In flight with changed metadata: the original context, every
		// value in it, with the new metadata. Auth stays Go's own.
		orig := client.FromContext(req.ctx)
		info.Auth = orig.Auth
		if info.Addr == nil {
			info.Addr = orig.Addr
		}
		return client.NewContext(req.ctx, info), noop, nil
	}
	ctx := context.Background()
	if hasClient {
		ctx = client.NewContext(ctx, info)
	}
	if sc.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	if e.deadline_nanos >= 0 {
		c, cancel := context.WithTimeout(ctx, time.Duration(e.deadline_nanos))
		return c, cancel, nil
	}
	return ctx, noop, nil
}

// copyFromRust copies n bytes of Rust memory at addr.
func copyFromRust(addr, n uint) []byte {
	out := make([]byte, n)
	copy(out, unsafeBytes(addr, n))
	return out
}
