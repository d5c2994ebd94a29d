//! The request context that travels with every batch.
//!
//! In Go a `context.Context` rides beside each `ConsumeX` call. Here the
//! context rides *with* the data, as otap-dataflow's `Context<T>` wrapper
//! does: whatever a processor emits keeps the context of the request it came
//! from, so the bridge can hand the downstream Go consumer the right
//! `context.Context`, even when the emission happens after the request
//! itself has completed.
//!
//! | Go | here |
//! |---|---|
//! | `ctx.Deadline()` | [`RequestContext::deadline`] |
//! | `ctx.Done()` | [`RequestContext::cancellation`] (a token the bridge triggers the moment Go cancels) |
//! | `client.FromContext(ctx).Metadata` | [`RequestContext::metadata`] (case-insensitive keys, ordered values) |
//! | `client.FromContext(ctx).Addr` | [`RequestContext::client_address`] |
//! | `client.FromContext(ctx).Auth` | [`RequestContext::auth`], only for processors that declare they need it |
//! | `trace.SpanContextFromContext(ctx)` | [`RequestContext::span_context`] |

use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry::trace::SpanContext;
use tokio_util::sync::CancellationToken;

/// Identifies one Go `ConsumeX` call while it crosses into Rust. Unique among
/// the requests in flight; the Go side chooses it.
pub type RequestId = u64;

/// Client metadata with the Collector's semantics: keys are
/// case-insensitive (stored lowercase), each key has ordered values.
///
/// Values are bytes, as Go strings are: an HTTP header or a gRPC `-bin`
/// value need not be UTF-8, and a processor that never reads a key must not
/// fail on it. [`Metadata::get_str`] is the checked view for code that
/// wants text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: Vec<(String, Vec<Vec<u8>>)>,
}

impl Metadata {
    /// Builds metadata from keys and their values; keys are lowercased and
    /// values of keys equal but for case are merged in order.
    pub fn from_entries<K: Into<String>, V: Into<Vec<u8>>>(
        entries: impl IntoIterator<Item = (K, Vec<V>)>,
    ) -> Self {
        let mut md = Metadata::default();
        for (key, values) in entries {
            let key = key.into().to_ascii_lowercase();
            let values = values.into_iter().map(Into::into);
            match md.entries.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => existing.extend(values),
                None => md.entries.push((key, values.collect())),
            }
        }
        md
    }

    /// The values of `key` (any case), empty when absent.
    pub fn get(&self, key: &str) -> &[Vec<u8>] {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The values of `key` that are valid UTF-8, in order.
    pub fn get_str<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.get(key)
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// Replaces the values of `key`.
    pub fn set(&mut self, key: &str, values: Vec<Vec<u8>>) {
        let key = key.to_ascii_lowercase();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => *existing = values,
            None => self.entries.push((key, values)),
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// Every key (lowercase) with its values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Vec<u8>])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A value of an auth attribute (`client.AuthData.GetAttribute`): Go
/// strings, so bytes.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthValue {
    /// A single string.
    String(Vec<u8>),
    /// A list of strings.
    List(Vec<Vec<u8>>),
}

/// Auth attributes. Never printed: `Debug` shows only the names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthInfo {
    attributes: Vec<(String, AuthValue)>,
}

impl AuthInfo {
    /// Auth data from attribute names and values.
    pub fn new(attributes: Vec<(String, AuthValue)>) -> Self {
        AuthInfo { attributes }
    }

    /// The attribute `name`.
    pub fn get(&self, name: &str) -> Option<&AuthValue> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Attribute names and values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AuthValue)> {
        self.attributes.iter().map(|(n, v)| (n.as_str(), v))
    }
}

impl std::fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs: names only.
        f.debug_struct("AuthInfo")
            .field(
                "attributes",
                &self.attributes.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Who sent the request (`client.Info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer's IP address, as the Collector's `client.address` gives it.
    pub address: Option<String>,
    /// Request metadata (headers the receiver kept).
    pub metadata: Metadata,
    /// Auth attributes, for processors that asked for them.
    pub auth: Option<AuthInfo>,
}

/// A request's cancellation, shared by every clone of its context and by
/// the [`Canceller`] of its owner.
///
/// The token is made on first use: most requests are never asked for it,
/// and a `CancellationToken` takes a lock on every clone and drop, which
/// cost about a tenth of the bridge's crossing when every request made
/// one.
#[derive(Debug, Default)]
struct Cancellation {
    token: OnceLock<CancellationToken>,
    cancelled: AtomicBool,
}

impl Cancellation {
    fn token(&self) -> &CancellationToken {
        let token = self.token.get_or_init(CancellationToken::new);
        // A cancel that came before the token was made (it found none to
        // cancel) is seen here: both sides write, then read the other's.
        if self.cancelled.load(AtomicOrdering::SeqCst) {
            token.cancel();
        }
        token
    }

    fn cancel(&self) {
        self.cancelled.store(true, AtomicOrdering::SeqCst);
        if let Some(token) = self.token.get() {
            token.cancel();
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(AtomicOrdering::SeqCst)
            || self
                .token
                .get()
                .is_some_and(CancellationToken::is_cancelled)
    }
}

/// Cancels a request: what the owner of a request (the bridge) keeps to
/// end it when the caller gives up.
#[derive(Debug, Clone)]
pub struct Canceller(Arc<Cancellation>);

impl Canceller {
    /// Cancels the request: its [`RequestContext::cancellation`] fires,
    /// in every clone, now or as soon as it is made.
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// What a request carries besides its data.
#[derive(Debug, Clone)]
pub struct RequestContext {
    id: RequestId,
    deadline: Option<Instant>,
    cancellation: Arc<Cancellation>,
    client: Option<Arc<ClientInfo>>,
    span_context: SpanContext,
    span_handle: u64,
    metadata_changed: bool,
}

impl PartialEq for RequestContext {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.deadline == other.deadline
            && self.client == other.client
            && self.span_context == other.span_context
    }
}

impl RequestContext {
    /// A context for the request with this id, without deadline, client
    /// info or span context.
    pub fn new(id: RequestId) -> Self {
        RequestContext {
            id,
            deadline: None,
            cancellation: Arc::default(),
            client: None,
            span_context: SpanContext::empty_context(),
            span_handle: 0,
            metadata_changed: false,
        }
    }

    /// Sets the deadline.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Uses this cancellation token.
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        let cancellation = Cancellation::default();
        let _ = cancellation.token.set(token);
        self.cancellation = Arc::new(cancellation);
        self
    }

    /// What cancels this request (and every clone of its context).
    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancellation.clone())
    }

    /// Sets the client info.
    pub fn with_client(mut self, client: Option<Arc<ClientInfo>>) -> Self {
        self.client = client;
        self
    }

    /// Sets the span context of the caller.
    pub fn with_span_context(mut self, span_context: SpanContext) -> Self {
        self.span_context = span_context;
        self
    }

    /// The request's id.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// When the caller stops waiting, if it set a deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (zero once passed); `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Triggered as soon as the Go caller's context is cancelled.
    pub fn cancellation(&self) -> &CancellationToken {
        self.cancellation.token()
    }

    /// True once the caller cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// The client info, if the receiver attached any.
    pub fn client(&self) -> Option<&ClientInfo> {
        self.client.as_deref()
    }

    /// The shared client info, for the bridge.
    pub fn client_arc(&self) -> Option<&Arc<ClientInfo>> {
        self.client.as_ref()
    }

    /// Request metadata (empty when the receiver kept none).
    pub fn metadata(&self) -> &Metadata {
        static EMPTY: Metadata = Metadata {
            entries: Vec::new(),
        };
        self.client.as_deref().map_or(&EMPTY, |c| &c.metadata)
    }

    /// The peer address (`client.address`).
    pub fn client_address(&self) -> Option<&str> {
        self.client.as_deref().and_then(|c| c.address.as_deref())
    }

    /// Auth attributes; `None` unless the processor declared it needs them
    /// (`ProcessorFactory::needs_client_auth`) and the request had some.
    pub fn auth(&self) -> Option<&AuthInfo> {
        self.client.as_deref().and_then(|c| c.auth.as_ref())
    }

    /// Edits the metadata. The next consumer sees the change through
    /// `client.FromContext`.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        self.metadata_changed = true;
        let client = self.client.get_or_insert_with(Default::default);
        &mut Arc::make_mut(client).metadata
    }

    /// Whether a processor changed the metadata.
    pub fn metadata_changed(&self) -> bool {
        self.metadata_changed
    }

    /// The caller's span context (invalid when the caller had none). A
    /// span started in Rust with it as parent is a child of the Go span.
    pub fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    /// Makes a processor's span the current one: what is emitted from
    /// here is delivered to the next consumer as its child.
    pub fn set_span(&mut self, span: &crate::ProcessorSpan) {
        self.span_context = span.context().clone();
        self.span_handle = span.handle();
    }

    /// The host's handle of the span set with [`set_span`](Self::set_span)
    /// (0 for the caller's own).
    pub fn span_handle(&self) -> u64 {
        self.span_handle
    }
}

/// Data of type `T` with the context of the request it belongs to.
///
/// It is one pointer wide: the request context and the data live in one
/// heap allocation. Data moves through every layer of a request (the
/// processor's future, the effect handler, the sink, the bridge's request
/// state), and each async layer moves it into its own state; a pointer
/// makes each of those moves a word instead of a few hundred bytes, which
/// measurably cut the bridge's per-request cost. Splitting and rebuilding
/// ([`into_parts`](Self::into_parts), [`Context::new`]) costs an
/// allocation, so processors that edit the data in place use
/// [`parts_mut`](Self::parts_mut) instead.
#[derive(Debug, Clone)]
pub struct Context<T> {
    parts: Box<Parts<T>>,
}

#[derive(Debug, Clone)]
struct Parts<T> {
    request: RequestContext,
    inner: T,
}

impl<T> Context<T> {
    /// Wraps `inner` with a request context.
    pub fn new(request: RequestContext, inner: T) -> Self {
        Context {
            parts: Box::new(Parts { request, inner }),
        }
    }

    /// The request context.
    pub fn request(&self) -> &RequestContext {
        &self.parts.request
    }

    /// The request context, for editing (metadata).
    pub fn request_mut(&mut self) -> &mut RequestContext {
        &mut self.parts.request
    }

    /// The data.
    pub fn inner(&self) -> &T {
        &self.parts.inner
    }

    /// The data, for editing.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.parts.inner
    }

    /// The request context to read and the data to edit, at once: what a
    /// processor that edits data by what its request says needs, without
    /// taking the context apart.
    pub fn parts_mut(&mut self) -> (&RequestContext, &mut T) {
        let parts = &mut *self.parts;
        (&parts.request, &mut parts.inner)
    }

    /// Unwraps the data, dropping the context.
    pub fn into_inner(self) -> T {
        self.parts.inner
    }

    /// Splits context and data.
    pub fn into_parts(self) -> (RequestContext, T) {
        let parts = *self.parts;
        (parts.request, parts.inner)
    }

    /// Replaces the data, keeping the context: what a processor does when it
    /// emits something derived from a request.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Context<U> {
        let parts = *self.parts;
        Context::new(parts.request, f(parts.inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_case_insensitive_and_ordered() {
        let md = Metadata::from_entries([
            ("X-Tenant", vec!["a".to_string()]),
            ("x-tenant", vec!["b".to_string()]),
            ("Other", vec!["c".to_string(), "d".to_string()]),
        ]);
        assert_eq!(md.get("X-TENANT"), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(md.get_str("other").collect::<Vec<_>>(), ["c", "d"]);
        assert!(md.get("missing").is_empty());
        assert_eq!(
            md.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["x-tenant", "other"]
        );
    }

    #[test]
    fn editing_metadata_marks_it_changed() {
        let mut rc = RequestContext::new(1);
        assert!(!rc.metadata_changed());
        rc.metadata_mut().set("Tenant", vec![b"t1".to_vec()]);
        assert!(rc.metadata_changed());
        assert_eq!(rc.metadata().get("tenant"), [b"t1".to_vec()]);
    }

    #[test]
    fn cancellation_reaches_every_clone_whenever_its_token_is_made() {
        let rc = RequestContext::new(1);
        let before = rc.clone();
        let canceller = rc.canceller();
        assert!(!rc.is_cancelled());
        canceller.cancel();
        assert!(rc.is_cancelled() && before.is_cancelled());
        assert!(
            before.cancellation().is_cancelled(),
            "a token made after the cancel is cancelled"
        );

        let rc = RequestContext::new(2);
        let token = rc.cancellation().clone();
        let later = rc.clone();
        rc.canceller().cancel();
        assert!(token.is_cancelled(), "a token made before fires");
        assert!(later.cancellation().is_cancelled());

        let outside = CancellationToken::new();
        let rc = RequestContext::new(3).with_cancellation(outside.clone());
        outside.cancel();
        assert!(rc.is_cancelled(), "a token given from outside is used");
    }

    #[test]
    fn auth_debug_hides_values() {
        let auth = AuthInfo::new(vec![(
            "subject".into(),
            AuthValue::String(b"secret-token".to_vec()),
        )]);
        let text = format!("{auth:?}");
        assert!(text.contains("subject"));
        assert!(!text.contains("secret-token"));
    }
}
