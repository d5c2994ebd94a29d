//! Go memory that Rust reads in place.
//!
//! The bytes a Go `ConsumeX` call marshalled are handed to the processor as
//! a [`Bytes`] that points into the Go heap: no copy. Go keeps that memory
//! pinned (`runtime.Pinner`) for as long as Rust may read it, which is
//! normally until the request completes. A processor may keep the data
//! longer (a batching processor holds it across requests); then the request's
//! outcome says "retained" and Go keeps the buffer pinned until Rust drops the
//! last reference and sends a `Release`.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::abi::{OTELCOL_RUST_RELEASE_BUFFER, OTELCOL_RUST_RELEASE_ERROR};
use crate::ffi::{GoBridge, GoBridgeImpl, Release};

/// Tells Go that Rust no longer reads a request's input buffer.
pub fn release_buffer(request_id: u64) {
    GoBridgeImpl::release(&Release {
        kind: OTELCOL_RUST_RELEASE_BUFFER,
        id: request_id,
    });
}

/// Tells Go that Rust dropped its last reference to a Go error value.
pub fn release_error(id: u64) {
    GoBridgeImpl::release(&Release {
        kind: OTELCOL_RUST_RELEASE_ERROR,
        id,
    });
}

const ACTIVE: u8 = 0;
const RETAINED: u8 = 1;

/// Buffers Rust holds after their request completed.
pub static RETAINED_BUFFERS: AtomicU64 = AtomicU64::new(0);

/// Shared by every [`Bytes`] that points into one request's Go buffer.
pub struct BufferLease {
    request_id: u64,
    state: AtomicU8,
    release: fn(u64),
}

impl BufferLease {
    /// A lease for the request's buffer; `release` tells Go it may unpin.
    pub fn new(request_id: u64, release: fn(u64)) -> Arc<Self> {
        Arc::new(BufferLease {
            request_id,
            state: AtomicU8::new(ACTIVE),
            release,
        })
    }

    /// Called by the request's owner, holding its own reference, when the
    /// request completes. Returns whether something else still holds the
    /// buffer (then Go must keep it pinned until the release).
    pub fn complete(self: Arc<Self>) -> bool {
        // The common case: the data was dropped or handed to Go during the
        // request. With the only reference in hand, nobody can make
        // another, so no marking is needed.
        if Arc::strong_count(&self) == 1 {
            return false;
        }
        // Mark first: if another holder drops between here and into_inner,
        // it is not the last one (we still hold ours), so no release is
        // sent twice. into_inner then decides atomically who was last.
        self.state.store(RETAINED, Ordering::SeqCst);
        RETAINED_BUFFERS.fetch_add(1, Ordering::SeqCst);
        match Arc::into_inner(self) {
            Some(lease) => {
                // Nobody else holds the buffer: Go unpins when it reads the
                // outcome, and no release must follow.
                lease.state.store(ACTIVE, Ordering::SeqCst);
                RETAINED_BUFFERS.fetch_sub(1, Ordering::SeqCst);
                false
            }
            None => true,
        }
    }
}

impl Drop for BufferLease {
    fn drop(&mut self) {
        if self.state.load(Ordering::SeqCst) == RETAINED {
            RETAINED_BUFFERS.fetch_sub(1, Ordering::SeqCst);
            (self.release)(self.request_id);
        }
    }
}

struct GoBuffer {
    ptr: *const u8,
    len: usize,
    _lease: Arc<BufferLease>,
}

// SAFETY: the buffer is immutable pinned memory; Go neither moves nor frees
// nor writes it while a lease on it exists.
unsafe impl Send for GoBuffer {}
// SAFETY: as for Send: nothing writes the bytes, so shared reads from
// several threads are reads of immutable memory.
unsafe impl Sync for GoBuffer {}

impl AsRef<[u8]> for GoBuffer {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: see `go_bytes`: ptr..ptr+len stays valid and unchanged
        // while the lease lives, and the lease lives as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Bytes reading `len` bytes at `ptr` in place.
///
/// # Safety
/// `ptr..ptr+len` must be readable and unchanged until the lease completes
/// without retention, or until its release function runs. Go guarantees this
/// by pinning the buffer and freeing it only at those two points.
pub unsafe fn go_bytes(ptr: *const u8, len: usize, lease: Arc<BufferLease>) -> Bytes {
    if ptr.is_null() || len == 0 {
        return Bytes::new();
    }
    Bytes::from_owner(GoBuffer {
        ptr,
        len,
        _lease: lease,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static RELEASED: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    fn release(id: u64) {
        RELEASED.lock().unwrap().push(id);
    }

    #[test]
    fn not_retained_when_dropped_before_completion() {
        let data = [1u8, 2, 3];
        let lease = BufferLease::new(10, release);
        // SAFETY: `data` outlives every use of `bytes` in this test.
        let bytes = unsafe { go_bytes(data.as_ptr(), data.len(), lease.clone()) };
        assert_eq!(bytes.as_ptr(), data.as_ptr(), "read in place, not copied");
        drop(bytes);
        assert!(!lease.complete());
        assert!(!RELEASED.lock().unwrap().contains(&10));
    }

    #[test]
    fn retained_then_released_once() {
        let data = [4u8; 16];
        let lease = BufferLease::new(11, release);
        // SAFETY: `data` outlives every use of `bytes` in this test.
        let bytes = unsafe { go_bytes(data.as_ptr(), data.len(), lease.clone()) };
        let held = bytes.slice(2..4);
        drop(bytes);
        assert!(lease.complete());
        assert!(!RELEASED.lock().unwrap().contains(&11));
        drop(held);
        assert_eq!(
            RELEASED
                .lock()
                .unwrap()
                .iter()
                .filter(|id| **id == 11)
                .count(),
            1
        );
    }
}
