//! The request context crossing: what a Go `context.Context` carries
//! besides deadline and cancellation, in the [`OtelcolRustContext`] buffer
//! layout of `abi.rs`.
//!
//! Go writes one buffer per request that has something to carry (a
//! receiver with `include_metadata`, a sampled trace) and Rust decodes it at
//! once into owned values, so the buffer only lives for the call. Rust
//! writes one for an emission whose context Go must rebuild (data emitted
//! after its request ended) or update (changed metadata). The layout is
//! the generated header's; both readers check every range.

use std::str::FromStr;
use std::sync::Arc;

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use otelcol_rust_engine::{AuthInfo, AuthValue, ClientInfo, Metadata};

use crate::abi::{
    OtelcolRustAuthEntry, OtelcolRustContext, OtelcolRustMetadataEntry, OtelcolRustRange,
    OTELCOL_RUST_AUTH_LIST, OTELCOL_RUST_AUTH_STRING, OTELCOL_RUST_CONTEXT_HAS_CLIENT,
    OTELCOL_RUST_CONTEXT_HAS_SPAN,
};

/// What a request context carries besides deadline and cancellation.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Client info, if any.
    pub client: Option<Arc<ClientInfo>>,
    /// Span context, if valid.
    pub span_context: Option<SpanContext>,
}

/// Reads a `#[repr(C)]` value of plain integers at `offset`.
fn read<T: Copy + Default>(buf: &[u8], offset: usize) -> Result<T, String> {
    let size = std::mem::size_of::<T>();
    let bytes = offset
        .checked_add(size)
        .and_then(|end| buf.get(offset..end))
        .ok_or_else(|| {
            format!(
                "request context: {size} bytes at {offset} are past its end ({})",
                buf.len()
            )
        })?;
    let mut out = T::default();
    // SAFETY: T is one of the repr(C) structs of abi.rs, made only of
    // integers and arrays of integers, for which every bit pattern is
    // valid; `bytes` holds exactly size_of::<T>() bytes and the copy makes
    // no alignment assumption about the source.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (&mut out as *mut T).cast::<u8>(), size)
    };
    Ok(out)
}

fn bytes_at(buf: &[u8], r: OtelcolRustRange) -> Result<&[u8], String> {
    let (start, len) = (r.offset as usize, r.len as usize);
    start
        .checked_add(len)
        .and_then(|end| buf.get(start..end))
        .ok_or_else(|| {
            format!(
                "request context: range {start}+{len} is past its end ({})",
                buf.len()
            )
        })
}

fn array<T: Copy + Default>(buf: &[u8], r: OtelcolRustRange) -> Result<Vec<T>, String> {
    let size = std::mem::size_of::<T>();
    let mut out = Vec::with_capacity((r.len as usize).min(buf.len() / size.max(1)));
    for i in 0..r.len as usize {
        let at = (r.offset as usize)
            .checked_add(i * size)
            .ok_or_else(|| "request context: array offset overflows".to_string())?;
        out.push(read::<T>(buf, at)?);
    }
    Ok(out)
}

/// Decodes what Go wrote. An empty buffer decodes to nothing.
pub fn decode(buf: &[u8]) -> Result<Decoded, String> {
    let mut out = Decoded::default();
    if buf.is_empty() {
        return Ok(out);
    }
    let head: OtelcolRustContext = read(buf, 0)?;
    if head.flags & OTELCOL_RUST_CONTEXT_HAS_SPAN != 0 {
        let state = bytes_at(buf, head.trace_state)?;
        let trace_state = std::str::from_utf8(state)
            .ok()
            .filter(|s| !s.is_empty())
            .and_then(|s| TraceState::from_str(s).ok())
            .unwrap_or_default();
        let sc = SpanContext::new(
            TraceId::from_bytes(head.trace_id),
            SpanId::from_bytes(head.span_id),
            TraceFlags::new(head.trace_flags),
            head.remote != 0,
            trace_state,
        );
        // Go sends only valid span contexts, and encode() sends back only
        // valid ones: one with a zero id is no span context (a span
        // started from it would have no parent), whoever wrote it.
        out.span_context = sc.is_valid().then_some(sc);
    }
    if head.flags & OTELCOL_RUST_CONTEXT_HAS_CLIENT != 0 {
        let address = String::from_utf8_lossy(bytes_at(buf, head.address)?).into_owned();
        let mut entries = Vec::new();
        for e in array::<OtelcolRustMetadataEntry>(buf, head.metadata)? {
            let key = String::from_utf8_lossy(bytes_at(buf, e.key)?).into_owned();
            let values = array::<OtelcolRustRange>(buf, e.values)?
                .into_iter()
                .map(|r| bytes_at(buf, r).map(<[u8]>::to_vec))
                .collect::<Result<Vec<_>, _>>()?;
            entries.push((key, values));
        }
        let auth_entries = array::<OtelcolRustAuthEntry>(buf, head.auth)?;
        let auth = if auth_entries.is_empty() {
            None
        } else {
            let mut attrs = Vec::with_capacity(auth_entries.len());
            for a in auth_entries {
                let name = String::from_utf8_lossy(bytes_at(buf, a.name)?).into_owned();
                let value = match a.kind {
                    OTELCOL_RUST_AUTH_STRING => AuthValue::String(bytes_at(buf, a.value)?.to_vec()),
                    OTELCOL_RUST_AUTH_LIST => AuthValue::List(
                        array::<OtelcolRustRange>(buf, a.value)?
                            .into_iter()
                            .map(|r| bytes_at(buf, r).map(<[u8]>::to_vec))
                            .collect::<Result<_, _>>()?,
                    ),
                    k => return Err(format!("request context: unknown auth kind {k}")),
                };
                attrs.push((name, value));
            }
            Some(AuthInfo::new(attrs))
        };
        out.client = Some(Arc::new(ClientInfo {
            address: (!address.is_empty()).then_some(address),
            metadata: Metadata::from_entries(entries),
            auth,
        }));
    }
    Ok(out)
}

/// Builds a context buffer: the head, then what it refers to.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn reserve<T>(&mut self, n: usize) -> OtelcolRustRange {
        let offset = self.buf.len();
        self.buf.resize(offset + n * std::mem::size_of::<T>(), 0);
        OtelcolRustRange {
            offset: offset as u32,
            len: n as u32,
        }
    }

    fn put<T: Copy>(&mut self, at: usize, value: T) {
        let size = std::mem::size_of::<T>();
        // SAFETY: T is a repr(C) struct of integers from abi.rs; the bytes
        // at..at+size were reserved for it (reserve() above), and the copy
        // makes no alignment assumption about the destination.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&value as *const T).cast::<u8>(),
                self.buf[at..at + size].as_mut_ptr(),
                size,
            )
        };
    }

    fn bytes(&mut self, b: &[u8]) -> OtelcolRustRange {
        let offset = self.buf.len();
        self.buf.extend_from_slice(b);
        OtelcolRustRange {
            offset: offset as u32,
            len: b.len() as u32,
        }
    }
}

/// Encodes client info and span context for Go; empty when there is
/// neither. Auth attributes never travel back: Go keeps its own.
pub fn encode(client: Option<&ClientInfo>, span_context: &SpanContext) -> Vec<u8> {
    let has_span = span_context.is_valid();
    if client.is_none() && !has_span {
        return Vec::new();
    }
    let mut w = Writer {
        buf: Vec::with_capacity(128),
    };
    w.reserve::<OtelcolRustContext>(1);
    let mut head = OtelcolRustContext::default();
    if has_span {
        head.flags |= OTELCOL_RUST_CONTEXT_HAS_SPAN;
        head.trace_id = span_context.trace_id().to_bytes();
        head.span_id = span_context.span_id().to_bytes();
        head.trace_flags = span_context.trace_flags().to_u8();
        head.remote = u8::from(span_context.is_remote());
        head.trace_state = w.bytes(span_context.trace_state().header().as_bytes());
    }
    if let Some(client) = client {
        head.flags |= OTELCOL_RUST_CONTEXT_HAS_CLIENT;
        head.address = w.bytes(client.address.as_deref().unwrap_or("").as_bytes());
        let keys: Vec<_> = client.metadata.iter().collect();
        head.metadata = w.reserve::<OtelcolRustMetadataEntry>(keys.len());
        for (i, (key, values)) in keys.into_iter().enumerate() {
            let key = w.bytes(key.as_bytes());
            let list = w.reserve::<OtelcolRustRange>(values.len());
            for (j, v) in values.iter().enumerate() {
                let r = w.bytes(v);
                w.put(
                    list.offset as usize + j * std::mem::size_of::<OtelcolRustRange>(),
                    r,
                );
            }
            let at =
                head.metadata.offset as usize + i * std::mem::size_of::<OtelcolRustMetadataEntry>();
            w.put(at, OtelcolRustMetadataEntry { key, values: list });
        }
    }
    w.put(0, head);
    w.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `context` fuzz target: a span context with zero ids
    /// decoded as present, and did not survive encoding again.
    #[test]
    fn a_span_context_with_zero_ids_is_none() {
        let mut head = OtelcolRustContext {
            flags: OTELCOL_RUST_CONTEXT_HAS_SPAN,
            ..Default::default()
        };
        head.span_id = [1; 8];
        let mut w = Writer { buf: Vec::new() };
        w.reserve::<OtelcolRustContext>(1);
        w.put(0, head);
        assert!(decode(&w.buf).unwrap().span_context.is_none());
        head.trace_id = [2; 16];
        w.put(0, head);
        assert!(decode(&w.buf).unwrap().span_context.is_some());
    }

    #[test]
    fn round_trip() {
        let client = ClientInfo {
            address: Some("10.0.0.1".into()),
            metadata: Metadata::from_entries([("X-Tenant", vec![b"a".to_vec(), vec![0xff, 0]])]),
            auth: None,
        };
        let sc = SpanContext::new(
            TraceId::from_bytes([1; 16]),
            SpanId::from_bytes([2; 8]),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_str("k=v").unwrap(),
        );
        let buf = encode(Some(&client), &sc);
        let d = decode(&buf).unwrap();
        assert_eq!(d.client.as_deref(), Some(&client));
        assert_eq!(d.span_context.as_ref(), Some(&sc));
        assert!(decode(&[]).unwrap().client.is_none());
        assert!(encode(None, &SpanContext::empty_context()).is_empty());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let client = ClientInfo {
            address: None,
            metadata: Metadata::from_entries([("k", vec![b"v1".to_vec(), b"v2".to_vec()])]),
            auth: None,
        };
        let buf = encode(Some(&client), &SpanContext::empty_context());
        for n in 1..buf.len() {
            assert!(decode(&buf[..n]).is_err(), "truncated to {n}");
        }
    }
}
