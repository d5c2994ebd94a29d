//! The request context that travels with every batch.
//!
//! In Go a `context.Context` rides beside each `ConsumeX` call. Here the
//! context rides *with* the data, as otap-dataflow's `Context<T>` wrapper
//! does: whatever a processor emits keeps the context of the request it came
//! from, so the bridge can hand the downstream Go consumer the right
//! `context.Context` even when the emission happens after the request itself
//! has completed.

/// Identifies one Go `ConsumeX` call while it crosses into Rust. Unique among
/// the requests in flight; the Go side chooses it.
pub type RequestId = u64;

/// What a request carries besides its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    id: RequestId,
}

impl RequestContext {
    /// A context for the request with this id.
    pub fn new(id: RequestId) -> Self {
        RequestContext { id }
    }

    /// The request's id.
    pub fn id(&self) -> RequestId {
        self.id
    }
}

/// Data of type `T` with the context of the request it belongs to.
#[derive(Debug, Clone)]
pub struct Context<T> {
    request: RequestContext,
    inner: T,
}

impl<T> Context<T> {
    /// Wraps `inner` with a request context.
    pub fn new(request: RequestContext, inner: T) -> Self {
        Context { request, inner }
    }

    /// The request context.
    pub fn request(&self) -> &RequestContext {
        &self.request
    }

    /// The data.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The data, for editing.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the data, dropping the context.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Splits context and data.
    pub fn into_parts(self) -> (RequestContext, T) {
        (self.request, self.inner)
    }

    /// Replaces the data, keeping the context: what a processor does when it
    /// emits something derived from a request.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Context<U> {
        Context {
            request: self.request,
            inner: f(self.inner),
        }
    }
}
