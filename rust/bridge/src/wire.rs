//! The encoding of a Go request context's client info and span context.
//!
//! Go writes it once per request, only when there is something to carry
//! (a receiver with `include_metadata`, a sampled trace), into one byte
//! buffer that holds no pointers; Rust decodes it into owned values at once,
//! so the buffer only has to live for the call. The same encoding carries a
//! changed or rebuilt context back to Go with an emission.
//!
//! Layout (little-endian): `version:u8 = 1`, `flags:u8` (bit 0 span
//! context, bit 1 client info). Span context: `trace_id:[16]`,
//! `span_id:[8]`, `trace_flags:u8`, `remote:u8`, `trace_state:str`. Client
//! info: `address:str` (empty for none), `n:u32` metadata keys, each
//! `key:str n:u32 value:str...`, then `n:u32` auth attributes, each
//! `name:str kind:u8` (0 string, 1 list) and `value:str` or `n:u32 str...`.
//! A `str` is `len:u32` then UTF-8 bytes.

use std::str::FromStr;
use std::sync::Arc;

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use otelcol_rust_engine::{AuthInfo, AuthValue, ClientInfo, Metadata};

const VERSION: u8 = 1;
const HAS_SPAN: u8 = 1;
const HAS_CLIENT: u8 = 2;

/// What a request context carries besides deadline and cancellation.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Client info, if any.
    pub client: Option<Arc<ClientInfo>>,
    /// Span context (invalid when none).
    pub span_context: Option<SpanContext>,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err(format!(
                "request context truncated: wanted {n} bytes, {} left",
                self.buf.len()
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn str(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec())
            .map_err(|e| format!("request context holds invalid UTF-8: {e}"))
    }

    fn strs(&mut self) -> Result<Vec<String>, String> {
        let n = self.u32()? as usize;
        (0..n).map(|_| self.str()).collect()
    }
}

/// Decodes what Go encoded. An empty buffer decodes to nothing.
pub fn decode(buf: &[u8]) -> Result<Decoded, String> {
    let mut out = Decoded::default();
    if buf.is_empty() {
        return Ok(out);
    }
    let mut r = Reader { buf };
    let version = r.u8()?;
    if version != VERSION {
        return Err(format!(
            "request context version {version}, expected {VERSION}"
        ));
    }
    let flags = r.u8()?;
    if flags & HAS_SPAN != 0 {
        let trace_id: [u8; 16] = r.take(16)?.try_into().expect("16 bytes");
        let span_id: [u8; 8] = r.take(8)?.try_into().expect("8 bytes");
        let trace_flags = TraceFlags::new(r.u8()?);
        let remote = r.u8()? != 0;
        let state = r.str()?;
        let trace_state = if state.is_empty() {
            TraceState::default()
        } else {
            TraceState::from_str(&state).unwrap_or_default()
        };
        out.span_context = Some(SpanContext::new(
            TraceId::from_bytes(trace_id),
            SpanId::from_bytes(span_id),
            trace_flags,
            remote,
            trace_state,
        ));
    }
    if flags & HAS_CLIENT != 0 {
        let address = r.str()?;
        let n = r.u32()? as usize;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let key = r.str()?;
            entries.push((key, r.strs()?));
        }
        let n_auth = r.u32()? as usize;
        let auth = if n_auth == 0 {
            None
        } else {
            let mut attrs = Vec::with_capacity(n_auth);
            for _ in 0..n_auth {
                let name = r.str()?;
                let value = match r.u8()? {
                    0 => AuthValue::String(r.str()?),
                    _ => AuthValue::List(r.strs()?),
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

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Encodes client info and span context for Go; empty when there is
/// neither. Auth attributes never travel back.
pub fn encode(client: Option<&ClientInfo>, span_context: &SpanContext) -> Vec<u8> {
    let has_span = span_context.is_valid();
    if client.is_none() && !has_span {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    let mut flags = 0;
    if has_span {
        flags |= HAS_SPAN;
    }
    if client.is_some() {
        flags |= HAS_CLIENT;
    }
    out.push(flags);
    if has_span {
        out.extend_from_slice(&span_context.trace_id().to_bytes());
        out.extend_from_slice(&span_context.span_id().to_bytes());
        out.push(span_context.trace_flags().to_u8());
        out.push(span_context.is_remote() as u8);
        put_str(&mut out, &span_context.trace_state().header());
    }
    if let Some(client) = client {
        put_str(&mut out, client.address.as_deref().unwrap_or(""));
        let entries: Vec<_> = client.metadata.iter().collect();
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (key, values) in entries {
            put_str(&mut out, key);
            out.extend_from_slice(&(values.len() as u32).to_le_bytes());
            for v in values {
                put_str(&mut out, v);
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let client = ClientInfo {
            address: Some("10.0.0.1".into()),
            metadata: Metadata::from_entries([(
                "X-Tenant",
                vec!["a".to_string(), "b".to_string()],
            )]),
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
        assert!(decode(&buf[..buf.len() - 1]).is_err());
    }
}
