package bridge

import (
	"sync"
	"sync/atomic"
)

// The request's input buffer (rust/bridge/src/buffer.rs): Rust reads the
// bytes Go marshalled in place, so they stay pinned until Rust says it no
// longer reads them: at the end of the request, or, when a processor kept
// the data past it, at the release Rust sends when it drops the last
// reference. Go errors handed to Rust are held the same way, by id.

var (
	// retained holds requests whose input buffer Rust kept after the
	// request ended, until Rust releases it. A release that overtakes the
	// end of the request leaves releasedMarker.
	retained       sync.Map // uint64 -> *request or releasedMarker
	releasedMarker = new(int)

	nextErrorID atomic.Uint64
	goErrors    sync.Map // uint64 -> error, held for Rust
)

// pin pins the input buffer and returns it for Rust.
func (r *request) pin() []byte {
	if len(r.buf) == 0 {
		return nil
	}
	if !r.bufInC && (r.projection == nil || r.projection.inGoHeap()) {
		r.pinner.Pin(&r.buf[0])
	}
	return r.buf
}

// releaseBuffer frees the input buffer now, or keeps it pinned until
// Rust's release when Rust still holds it.
func (r *request) releaseBuffer(retainedByRust bool) {
	if !retainedByRust {
		r.unpin()
		return
	}
	r.kept = true
	if prev, loaded := retained.LoadOrStore(r.id, r); loaded && prev == releasedMarker {
		// The release arrived before the request ended.
		retained.Delete(r.id)
		r.unpin()
	}
}

// unpin lets the buffer go: back to the pool if it is a projection
// buffer, to the garbage collector otherwise.
func (r *request) unpin() {
	r.pinner.Unpin()
	if r.projection != nil {
		putProjection(r.projection)
		r.projection = nil
	}
	r.buf = nil
}

// releaseRetainedBuffer handles Rust's release of a request's buffer.
func releaseRetainedBuffer(id uint64) {
	prev, loaded := retained.LoadOrStore(id, releasedMarker)
	if !loaded {
		return
	}
	retained.Delete(id)
	if r, ok := prev.(*request); ok {
		r.unpin()
	}
}

// holdError keeps a Go error for Rust and returns the id Rust knows it by.
func holdError(err error) uint64 {
	id := nextErrorID.Add(1)
	goErrors.Store(id, err)
	return id
}

// heldError returns a held error without releasing it.
func heldError(id uint64) error {
	if v, ok := goErrors.Load(id); ok {
		return v.(error)
	}
	return nil
}
