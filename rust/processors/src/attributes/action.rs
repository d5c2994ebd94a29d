//! The validated actions and how they edit one attribute map.
//!
//! Contrib's `attraction` edits a `pcommon.Map`; this edits the engine's
//! [`Attributes`], which has `pcommon.Map`'s semantics on the same list
//! (the first entry with a key is the one found, `remove` moves the last
//! entry into the hole, `retain` keeps the order) and records each change
//! as an operation Go replays on its own data. So the same configuration
//! gives the same list in the same order, not just the same set, and a
//! record no action changes costs a scan per action and no allocation.
//!
//! Keys and values are bytes, as Go strings are: a key or value that is not
//! valid UTF-8 is matched, copied and hashed exactly as contrib does with
//! the same bytes. Patterns are [`GoRegex`]es: Go's syntax, Go's matching.
//!
//! `from_context` reads the [`RequestContext`] of the batch being processed,
//! record by record and only when the action is about to write.

use std::borrow::Cow;

use otelcol_rust_engine::go_regex::GoRegex;
use otelcol_rust_engine::{Attributes, AuthValue, RequestContext, Value, ValueRef};

use super::hash_memo::sha256_hex_recent;

/// Where `insert`, `update` and `upsert` take the value from: at most one
/// source (the configuration allows no more) and an optional
/// `default_value` for when the source finds nothing.
#[derive(Debug, Clone)]
pub(crate) struct ValueSource {
    pub(crate) source: Option<Source>,
    pub(crate) default: Option<Value>,
}

/// A value source proper (`value`, `from_attribute` or `from_context`).
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A constant from the configuration.
    Value(Value),
    /// Another attribute of the same record.
    FromAttribute(String),
    /// The request the batch came with.
    FromContext(ContextKey),
}

impl ValueSource {
    /// The value to write, or `None` when neither the source nor a default
    /// gives one (the action then does nothing).
    ///
    /// The order is contrib's: the constant, else the context, else the
    /// attribute, else `default_value`.
    /// A constant is lent, not copied: writing it into every record costs
    /// no allocation.
    #[inline]
    fn resolve<'s>(
        &'s self,
        attrs: &Attributes<'_>,
        request: &RequestContext,
    ) -> Option<Cow<'s, Value>> {
        let found = match &self.source {
            Some(Source::Value(value)) => return Some(Cow::Borrowed(value)),
            Some(Source::FromContext(key)) => key.resolve(request),
            Some(Source::FromAttribute(from)) => attrs.get(from.as_bytes()).map(|v| v.to_owned()),
            None => None,
        };
        found
            .map(Cow::Owned)
            .or_else(|| self.default.as_ref().map(Cow::Borrowed))
    }
}

/// What `from_context` names, parsed once from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContextKey {
    /// `client.address`: the peer's IP address.
    ClientAddress,
    /// `metadata.<key>`, or any key without a known prefix: the request
    /// metadata (case-insensitive key).
    Metadata(String),
    /// `auth.<name>`: an attribute of the authenticated client.
    Auth(String),
}

impl ContextKey {
    /// Reads `from_context` as contrib does: `client.address` exactly, then
    /// the `metadata.` and `auth.` prefixes, and any other key is a
    /// metadata key.
    pub(crate) fn parse(key: &str) -> Self {
        if key == "client.address" {
            ContextKey::ClientAddress
        } else if let Some(md) = key.strip_prefix("metadata.") {
            ContextKey::Metadata(md.to_owned())
        } else if let Some(name) = key.strip_prefix("auth.") {
            ContextKey::Auth(name.to_owned())
        } else {
            ContextKey::Metadata(key.to_owned())
        }
    }

    /// The string the request gives for this key, `None` when it gives
    /// nothing. Several values are joined with `;`, as contrib does.
    fn resolve(&self, request: &RequestContext) -> Option<Value> {
        let text = match self {
            // Contrib writes the empty string when the address is unknown:
            // `client.address` is always found.
            ContextKey::ClientAddress => request.client_address().unwrap_or("").as_bytes().to_vec(),
            ContextKey::Metadata(key) => join(request.metadata().get(key))?,
            ContextKey::Auth(name) => match request.auth()?.get(name)? {
                AuthValue::String(s) => s.clone(),
                AuthValue::List(values) => join(values)?,
            },
        };
        Some(Value::Str(text.into()))
    }
}

/// The values joined with `;`, `None` when there are none.
fn join(values: &[Vec<u8>]) -> Option<Vec<u8>> {
    (!values.is_empty()).then(|| values.join(&b';'))
}

/// One action, checked and ready to run.
#[derive(Debug, Clone)]
pub(crate) enum CompiledAction {
    Insert {
        key: String,
        source: ValueSource,
    },
    Update {
        key: String,
        source: ValueSource,
    },
    Upsert {
        key: String,
        source: ValueSource,
    },
    /// `key` is empty when only `pattern` was given: contrib then still
    /// removes an attribute whose key is the empty string.
    Delete {
        key: String,
        pattern: Option<GoRegex>,
    },
    /// As for `Delete`, an empty `key` hashes the attribute with the empty
    /// key.
    Hash {
        key: String,
        pattern: Option<GoRegex>,
    },
}

/// The whole configuration, compiled once and shared by every instance.
#[derive(Debug, Clone)]
pub(crate) struct CompiledActions {
    actions: Vec<CompiledAction>,
}

impl CompiledActions {
    pub(crate) fn new(actions: Vec<CompiledAction>) -> Self {
        CompiledActions { actions }
    }

    /// Every key the actions read or write, when they name them all: no
    /// action has a pattern, and no key is empty (contrib's empty key is a
    /// real key, but the bridge's placeholders have it too). The bridge
    /// then sends Rust only those entries
    /// (`Processor::attribute_keys`).
    pub(crate) fn named_keys(&self) -> Option<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut add = |key: &str| {
            if !keys.iter().any(|k| k == key.as_bytes()) {
                keys.push(key.as_bytes().to_vec());
            }
        };
        for action in &self.actions {
            match action {
                CompiledAction::Insert { key, source }
                | CompiledAction::Update { key, source }
                | CompiledAction::Upsert { key, source } => {
                    add(key);
                    if let Some(Source::FromAttribute(from)) = &source.source {
                        add(from);
                    }
                }
                CompiledAction::Delete { key, pattern } | CompiledAction::Hash { key, pattern } => {
                    if pattern.is_some() {
                        return None;
                    }
                    add(key);
                }
            }
        }
        if keys.iter().any(Vec::is_empty) {
            return None;
        }
        Some(keys)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.actions.len()
    }

    /// Runs every action, in order, on one record's attributes;
    /// `from_context` reads `request`, the context of the record's batch.
    /// Returns how many actions changed something.
    pub(crate) fn apply(&self, attrs: &mut Attributes<'_>, request: &RequestContext) -> u64 {
        self.actions
            .iter()
            .map(|action| u64::from(action.apply(attrs, request)))
            .sum()
    }
}

impl CompiledAction {
    /// Applies the action; returns whether it changed anything.
    fn apply(&self, attrs: &mut Attributes<'_>, request: &RequestContext) -> bool {
        match self {
            CompiledAction::Insert { key, source } => {
                if attrs.find(key.as_bytes()).is_some() {
                    return false;
                }
                let Some(value) = source.resolve(attrs, request) else {
                    return false;
                };
                attrs.insert(key.as_bytes(), Value::as_ref(&value))
            }
            CompiledAction::Update { key, source } => {
                let Some(i) = attrs.find(key.as_bytes()) else {
                    return false;
                };
                let Some(value) = source.resolve(attrs, request) else {
                    return false;
                };
                attrs.set(i, Value::as_ref(&value));
                true
            }
            CompiledAction::Upsert { key, source } => {
                let Some(value) = source.resolve(attrs, request) else {
                    return false;
                };
                attrs.put(key.as_bytes(), Value::as_ref(&value));
                true
            }
            CompiledAction::Delete { key, pattern } => {
                let mut changed = attrs.remove(key.as_bytes());
                if let Some(pattern) = pattern {
                    changed |= attrs.retain(|k, _| !pattern.is_match(k)) > 0;
                }
                changed
            }
            CompiledAction::Hash { key, pattern } => {
                let mut hashed = false;
                // Like contrib, a key that is named and also matches the
                // pattern is hashed twice.
                let mut hex = [0u8; 64];
                if let Some(i) = attrs.find(key.as_bytes()) {
                    let h = hash_value(attrs.value(i), &mut hex);
                    attrs.set(i, ValueRef::Str(h));
                    hashed = true;
                }
                if let Some(pattern) = pattern {
                    for i in 0..attrs.len() {
                        if pattern.is_match(attrs.key(i)) {
                            let h = hash_value(attrs.value(i), &mut hex);
                            attrs.set(i, ValueRef::Str(h));
                            hashed = true;
                        }
                    }
                }
                hashed
            }
        }
    }
}

/// The lowercase hex SHA-256 of a value, encoded as contrib's `sha2Hasher`
/// encodes it: a string's bytes, a bool as one byte (1 or 0), an int as its
/// 8 little-endian two's-complement bytes, a double as the 8 little-endian
/// bytes of its IEEE-754 bits. Any other value (empty, bytes, array, map)
/// becomes the empty string, as in contrib.
///
/// The hex goes into `out`, which the caller keeps on its stack: hashing
/// every record's value allocates nothing (the thread's memo of recent
/// values is made once).
pub(crate) fn hash_value<'o>(value: ValueRef<'_>, out: &'o mut [u8; 64]) -> &'o [u8] {
    match value {
        ValueRef::Str(s) => sha256_hex_recent(s, out),
        ValueRef::Bool(b) => sha256_hex_recent(&[u8::from(b)], out),
        ValueRef::Int(i) => sha256_hex_recent(&i.to_le_bytes(), out),
        ValueRef::Double(d) => sha256_hex_recent(&d.to_bits().to_le_bytes(), out),
        _ => return &[],
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use otelcol_rust_engine::proto::common::{any_value, AnyValue, KeyValue};
    use otelcol_rust_engine::proto::trace::{ResourceSpans, ScopeSpans, Span, TracesData};
    use otelcol_rust_engine::{AuthInfo, ClientInfo, Metadata, OtlpData, Select, Signal};
    use prost::Message as _;
    use sha2::{Digest, Sha256};

    use super::*;
    use any_value::Value;

    pub(crate) fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    pub(crate) fn s(v: &str) -> Value {
        Value::StringValue(v.into())
    }

    /// sha256 in lowercase hex, computed here without the code under test.
    pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn keys(attrs: &[KeyValue]) -> Vec<&str> {
        attrs.iter().map(|kv| kv.key.as_str()).collect()
    }

    fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
        attrs
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    fn any(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    /// The engine's value for a prost value.
    pub(crate) fn engine_value(value: Value) -> otelcol_rust_engine::Value {
        use otelcol_rust_engine::Value as V;
        match value {
            Value::StringValue(s) => V::Str(s.into()),
            Value::BoolValue(b) => V::Bool(b),
            Value::IntValue(i) => V::Int(i),
            Value::DoubleValue(d) => V::Double(d),
            Value::BytesValue(b) => V::Bytes(b.into()),
            other => V::Raw(any(other).encode_to_vec().into()),
        }
    }

    fn source(source: Option<Source>, default: Option<Value>) -> ValueSource {
        ValueSource {
            source,
            default: default.map(engine_value),
        }
    }

    fn constant(value: Value) -> ValueSource {
        source(Some(Source::Value(engine_value(value))), None)
    }

    fn from(key: &str) -> ValueSource {
        source(Some(Source::FromAttribute(key.into())), None)
    }

    fn run(action: CompiledAction, attrs: &mut Vec<KeyValue>) {
        run_in(action, attrs, &RequestContext::new(1));
    }

    fn run_in(action: CompiledAction, attrs: &mut Vec<KeyValue>, request: &RequestContext) {
        apply_all(&CompiledActions::new(vec![action]), attrs, request);
    }

    /// Runs the actions on one span with these attributes, as the processor
    /// does (through the engine's editor), and reads the result back.
    pub(crate) fn apply_all(
        actions: &CompiledActions,
        attrs: &mut Vec<KeyValue>,
        request: &RequestContext,
    ) {
        let td = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        attributes: attrs.clone(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let mut data = OtlpData::from_original(Signal::Traces, Bytes::from(td.encode_to_vec()));
        data.edit_attributes(Select::RECORDS, |_, a| {
            actions.apply(a, request);
        })
        .unwrap();
        let out = data.traces().unwrap();
        *attrs = out.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .clone();
        // An empty value and an absent one are the same value (pcommon's
        // Empty); the Go collector always writes the field.
        for kv in attrs.iter_mut() {
            if kv.value == Some(AnyValue { value: None }) {
                kv.value = None;
            }
        }
    }

    fn sample() -> Vec<KeyValue> {
        vec![
            kv("a", s("1")),
            kv("b", Value::IntValue(2)),
            kv("c", s("3")),
        ]
    }

    #[test]
    fn insert_only_when_absent() {
        let mut attrs = sample();
        run(
            CompiledAction::Insert {
                key: "a".into(),
                source: constant(s("new")),
            },
            &mut attrs,
        );
        assert_eq!(attrs, sample());
        run(
            CompiledAction::Insert {
                key: "d".into(),
                source: constant(Value::BoolValue(true)),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "b", "c", "d"]);
        assert_eq!(get(&attrs, "d"), Some(&Value::BoolValue(true)));
    }

    #[test]
    fn update_only_when_present() {
        let mut attrs = sample();
        run(
            CompiledAction::Update {
                key: "d".into(),
                source: constant(s("x")),
            },
            &mut attrs,
        );
        assert_eq!(attrs, sample());
        run(
            CompiledAction::Update {
                key: "b".into(),
                source: constant(Value::DoubleValue(2.5)),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "b", "c"]);
        assert_eq!(get(&attrs, "b"), Some(&Value::DoubleValue(2.5)));
    }

    #[test]
    fn upsert_always() {
        let mut attrs = sample();
        for (key, value) in [("a", "x"), ("z", "y")] {
            run(
                CompiledAction::Upsert {
                    key: key.into(),
                    source: constant(s(value)),
                },
                &mut attrs,
            );
        }
        assert_eq!(keys(&attrs), ["a", "b", "c", "z"]);
        assert_eq!(get(&attrs, "a"), Some(&s("x")));
        assert_eq!(get(&attrs, "z"), Some(&s("y")));
    }

    #[test]
    fn from_attribute_copies_and_skips_when_source_absent() {
        let mut attrs = sample();
        for action in [
            CompiledAction::Insert {
                key: "d".into(),
                source: from("missing"),
            },
            CompiledAction::Update {
                key: "a".into(),
                source: from("missing"),
            },
            CompiledAction::Upsert {
                key: "e".into(),
                source: from("missing"),
            },
        ] {
            run(action, &mut attrs);
        }
        assert_eq!(attrs, sample());

        run(
            CompiledAction::Insert {
                key: "d".into(),
                source: from("b"),
            },
            &mut attrs,
        );
        run(
            CompiledAction::Update {
                key: "a".into(),
                source: from("c"),
            },
            &mut attrs,
        );
        run(
            CompiledAction::Upsert {
                key: "c".into(),
                source: from("b"),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "b", "c", "d"]);
        assert_eq!(get(&attrs, "a"), Some(&s("3")));
        assert_eq!(get(&attrs, "c"), Some(&Value::IntValue(2)));
        assert_eq!(get(&attrs, "d"), Some(&Value::IntValue(2)));

        // An unset source value is copied as unset.
        let mut attrs = vec![KeyValue {
            key: "empty".into(),
            value: None,
            ..Default::default()
        }];
        run(
            CompiledAction::Upsert {
                key: "copy".into(),
                source: from("empty"),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["empty", "copy"]);
        assert_eq!(attrs[1].value, None);
    }

    #[test]
    fn first_of_duplicate_keys_is_used() {
        let mut attrs = vec![kv("k", s("first")), kv("k", s("second")), kv("src", s("v"))];
        run(
            CompiledAction::Update {
                key: "k".into(),
                source: from("src"),
            },
            &mut attrs,
        );
        assert_eq!(attrs[0], kv("k", s("v")));
        assert_eq!(attrs[1], kv("k", s("second")));
    }

    #[test]
    fn delete_key_moves_last_into_place() {
        let mut attrs = vec![
            kv("a", s("1")),
            kv("b", s("2")),
            kv("c", s("3")),
            kv("d", s("4")),
        ];
        run(
            CompiledAction::Delete {
                key: "b".into(),
                pattern: None,
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "d", "c"]);
        run(
            CompiledAction::Delete {
                key: "missing".into(),
                pattern: None,
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "d", "c"]);
    }

    #[test]
    fn delete_pattern_keeps_order() {
        let mut attrs = vec![
            kv("http.url", s("u")),
            kv("keep", s("k")),
            kv("http.method", s("m")),
            kv("also.keep", s("k")),
            kv("secret", s("s")),
        ];
        run(
            CompiledAction::Delete {
                key: "secret".into(),
                pattern: Some(GoRegex::new("^http\\.").unwrap()),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["keep", "also.keep"]);
    }

    /// One case of `testdata/hash_golden.json`: a value and what
    /// contrib's hash action leaves in its place, written by the Go test
    /// `TestHashGoldenIsContribsOutput` from contrib's own output (which
    /// also checks the whole Rust processor, through the bridge, against
    /// contrib on every case, strings that are not UTF-8 included).
    #[derive(serde::Deserialize)]
    struct HashCase {
        name: String,
        kind: String,
        #[serde(default)]
        hex: String,
        #[serde(default)]
        int: i64,
        #[serde(default)]
        bool: bool,
        result: String,
    }

    #[test]
    fn hash_matches_contribs_output() {
        let cases: Vec<HashCase> =
            serde_json::from_str(include_str!("testdata/hash_golden.json")).unwrap();
        let mut checked = 0;
        for c in cases {
            let raw = hex::decode(&c.hex).unwrap();
            let value = match c.kind.as_str() {
                // prost strings are UTF-8: the Go test covers the others.
                "str" => match String::from_utf8(raw) {
                    Ok(text) => Some(Value::StringValue(text)),
                    Err(_) => continue,
                },
                "int" => Some(Value::IntValue(c.int)),
                "bool" => Some(Value::BoolValue(c.bool)),
                "double" => Some(Value::DoubleValue(f64::from_bits(u64::from_be_bytes(
                    raw.try_into().unwrap(),
                )))),
                "bytes" => Some(Value::BytesValue(raw)),
                "slice" => Some(Value::ArrayValue(Default::default())),
                "map" => Some(Value::KvlistValue(Default::default())),
                _ => None,
            };
            let mut attrs = vec![KeyValue {
                key: "k".into(),
                value: Some(AnyValue { value }),
                ..Default::default()
            }];
            run(
                CompiledAction::Hash {
                    key: "k".into(),
                    pattern: None,
                },
                &mut attrs,
            );
            assert_eq!(attrs, [kv("k", s(&c.result))], "{}", c.name);
            checked += 1;
        }
        assert!(checked >= 19, "{checked} cases checked");
    }

    fn named_keys_of(actions: serde_json::Value) -> Option<Vec<String>> {
        let config = serde_json::json!({ "actions": actions });
        otelcol_rust_engine::parse_config::<super::super::config::Config>(&config)
            .unwrap()
            .compile()
            .unwrap()
            .named_keys()
            .map(|keys| {
                keys.into_iter()
                    .map(|k| String::from_utf8(k).unwrap())
                    .collect()
            })
    }

    #[test]
    fn named_keys_are_every_key_read_or_written_once() {
        let keys = named_keys_of(serde_json::json!([
            {"key": "environment", "value": "production", "action": "insert"},
            {"key": "region", "from_attribute": "cloud.region", "action": "upsert"},
            {"key": "environment", "from_context": "metadata.tenant", "action": "update"},
            {"key": "user.email", "action": "hash"},
            {"key": "internal.debug", "action": "delete"},
        ]));
        assert_eq!(
            keys.unwrap(),
            [
                "environment",
                "region",
                "cloud.region",
                "user.email",
                "internal.debug"
            ]
        );
    }

    #[test]
    fn no_named_keys_with_a_pattern_or_an_empty_key() {
        assert_eq!(
            named_keys_of(serde_json::json!([
                {"key": "a", "action": "delete"},
                {"pattern": "^internal\\.", "action": "hash"},
            ])),
            None
        );
        let empty_key = CompiledActions::new(vec![CompiledAction::Delete {
            key: String::new(),
            pattern: None,
        }]);
        assert_eq!(
            empty_key.named_keys(),
            None,
            "the placeholders' key is empty"
        );
    }

    #[test]
    fn hash_of_other_types_is_empty_string() {
        let mut attrs = vec![
            kv("bytes", Value::BytesValue(vec![1, 2])),
            kv("array", Value::ArrayValue(Default::default())),
            kv("map", Value::KvlistValue(Default::default())),
            KeyValue {
                key: "unset".into(),
                value: None,
                ..Default::default()
            },
            KeyValue {
                key: "empty".into(),
                value: Some(AnyValue { value: None }),
                ..Default::default()
            },
        ];
        run(
            CompiledAction::Hash {
                key: String::new(),
                pattern: Some(GoRegex::new(".").unwrap()),
            },
            &mut attrs,
        );
        for attr in &attrs {
            assert_eq!(
                attr.value,
                Some(AnyValue { value: Some(s("")) }),
                "{}",
                attr.key
            );
        }
    }

    #[test]
    fn hash_pattern_and_double_hash() {
        let mut attrs = vec![
            kv("user.email", s("a@b.c")),
            kv("user.id", Value::IntValue(7)),
            kv("other", s("untouched")),
        ];
        run(
            CompiledAction::Hash {
                key: "user.email".into(),
                pattern: Some(GoRegex::new("^user\\.").unwrap()),
            },
            &mut attrs,
        );
        let once = sha256_hex(b"a@b.c");
        assert_eq!(
            get(&attrs, "user.email"),
            Some(&s(&sha256_hex(once.as_bytes())))
        );
        assert_eq!(
            get(&attrs, "user.id"),
            Some(&s(&sha256_hex(&7i64.to_le_bytes())))
        );
        assert_eq!(get(&attrs, "other"), Some(&s("untouched")));
    }

    #[test]
    fn actions_run_in_order() {
        let actions = CompiledActions::new(vec![
            CompiledAction::Insert {
                key: "copy".into(),
                source: from("a"),
            },
            CompiledAction::Hash {
                key: "copy".into(),
                pattern: None,
            },
            CompiledAction::Delete {
                key: "a".into(),
                pattern: None,
            },
        ]);
        let mut attrs = vec![kv("a", s("foo"))];
        apply_all(&actions, &mut attrs, &RequestContext::new(1));
        assert_eq!(attrs, [kv("copy", s(&sha256_hex(b"foo")))]);
    }

    /// A request from 10.1.2.3 with metadata and auth attributes.
    fn request() -> RequestContext {
        RequestContext::new(7).with_client(Some(Arc::new(ClientInfo {
            address: Some("10.1.2.3".into()),
            metadata: Metadata::from_entries([
                ("X-Tenant", vec!["acme".to_string()]),
                (
                    "x-scope",
                    vec!["a".to_string(), "b".to_string(), "".to_string()],
                ),
                ("empty-value", vec![String::new()]),
                ("no-values", Vec::new()),
            ]),
            auth: Some(AuthInfo::new(vec![
                ("subject".into(), AuthValue::String("user-1".into())),
                ("empty".into(), AuthValue::String(Vec::new())),
                (
                    "groups".into(),
                    AuthValue::List(vec!["admin".into(), "dev".into()]),
                ),
                ("no-groups".into(), AuthValue::List(Vec::new())),
            ])),
        })))
    }

    /// What an `upsert` of `from_context: key` (and `default`) writes into
    /// an empty record, `None` when it writes nothing.
    fn upsert_from_context(
        key: &str,
        default: Option<Value>,
        request: &RequestContext,
    ) -> Option<Value> {
        let mut attrs = Vec::new();
        run_in(
            CompiledAction::Upsert {
                key: "out".into(),
                source: source(Some(Source::FromContext(ContextKey::parse(key))), default),
            },
            &mut attrs,
            request,
        );
        assert!(attrs.len() <= 1);
        get(&attrs, "out").cloned()
    }

    #[test]
    fn context_keys_parse_like_contrib() {
        use ContextKey::*;
        for (key, parsed) in [
            ("client.address", ClientAddress),
            ("metadata.X-Tenant", Metadata("X-Tenant".into())),
            ("metadata.", Metadata("".into())),
            ("auth.subject", Auth("subject".into())),
            ("auth.", Auth("".into())),
            ("x-tenant", Metadata("x-tenant".into())),
            ("client.address.x", Metadata("client.address.x".into())),
            ("Client.Address", Metadata("Client.Address".into())),
            ("metadata.auth.x", Metadata("auth.x".into())),
        ] {
            assert_eq!(ContextKey::parse(key), parsed, "{key}");
        }
    }

    #[test]
    fn from_context_metadata() {
        let request = request();
        for (key, expected) in [
            ("metadata.x-tenant", Some("acme")),
            // Keys are case-insensitive.
            ("metadata.X-TENANT", Some("acme")),
            // Several values are joined with ";", in order, empty ones too.
            ("metadata.x-scope", Some("a;b;")),
            ("metadata.empty-value", Some("")),
            // No key or a key without values: nothing.
            ("metadata.no-values", None),
            ("metadata.missing", None),
            ("metadata.", None),
            // A key without a known prefix is a metadata key.
            ("X-Tenant", Some("acme")),
            ("x-scope", Some("a;b;")),
            ("subject", None),
        ] {
            assert_eq!(
                upsert_from_context(key, None, &request),
                expected.map(s),
                "{key}"
            );
        }
        // A request without client info has no metadata.
        assert_eq!(
            upsert_from_context("metadata.x-tenant", None, &RequestContext::new(1)),
            None
        );
    }

    #[test]
    fn from_context_auth() {
        let request = request();
        for (key, expected) in [
            ("auth.subject", Some("user-1")),
            ("auth.empty", Some("")),
            ("auth.groups", Some("admin;dev")),
            ("auth.no-groups", None),
            ("auth.missing", None),
            // Attribute names are matched exactly.
            ("auth.Subject", None),
            // Auth is not metadata, nor the other way round.
            ("auth.x-tenant", None),
            ("metadata.subject", None),
        ] {
            assert_eq!(
                upsert_from_context(key, None, &request),
                expected.map(s),
                "{key}"
            );
        }
        // Without auth data (the receiver had no authenticator).
        let no_auth = RequestContext::new(1).with_client(Some(Arc::new(ClientInfo {
            address: None,
            metadata: Metadata::from_entries([("subject", vec!["from-metadata".to_string()])]),
            auth: None,
        })));
        assert_eq!(upsert_from_context("auth.subject", None, &no_auth), None);
    }

    #[test]
    fn from_context_client_address() {
        assert_eq!(
            upsert_from_context("client.address", None, &request()),
            Some(s("10.1.2.3"))
        );
        // As in contrib, an unknown address is the empty string, found: the
        // default is not used.
        for request in [
            RequestContext::new(1),
            RequestContext::new(1).with_client(Some(Arc::new(ClientInfo::default()))),
        ] {
            assert_eq!(
                upsert_from_context("client.address", Some(s("default")), &request),
                Some(s(""))
            );
        }
    }

    #[test]
    fn default_value_when_the_source_finds_nothing() {
        let request = request();
        let default = || Some(Value::IntValue(0));
        // from_context found: its value; not found: the default.
        assert_eq!(
            upsert_from_context("metadata.x-tenant", default(), &request),
            Some(s("acme"))
        );
        for key in ["metadata.missing", "auth.missing", "auth.no-groups", "nope"] {
            assert_eq!(
                upsert_from_context(key, default(), &request),
                Some(Value::IntValue(0)),
                "{key}"
            );
        }

        // from_attribute found: a copy; not found: the default.
        let from_with_default =
            |from: &str| source(Some(Source::FromAttribute(from.into())), Some(s("dflt")));
        let mut attrs = sample();
        for (key, from) in [("x", "a"), ("y", "missing")] {
            run(
                CompiledAction::Insert {
                    key: key.into(),
                    source: from_with_default(from),
                },
                &mut attrs,
            );
        }
        assert_eq!(get(&attrs, "x"), Some(&s("1")));
        assert_eq!(get(&attrs, "y"), Some(&s("dflt")));

        // default_value alone is a constant; next to value it is never used.
        let mut attrs = sample();
        run(
            CompiledAction::Update {
                key: "a".into(),
                source: source(None, Some(Value::BoolValue(true))),
            },
            &mut attrs,
        );
        run(
            CompiledAction::Upsert {
                key: "b".into(),
                source: source(Some(Source::Value(engine_value(s("v")))), Some(s("dflt"))),
            },
            &mut attrs,
        );
        assert_eq!(get(&attrs, "a"), Some(&Value::BoolValue(true)));
        assert_eq!(get(&attrs, "b"), Some(&s("v")));
    }

    #[test]
    fn from_context_follows_the_action() {
        let request = request();
        let tenant = || {
            source(
                Some(Source::FromContext(ContextKey::parse("metadata.x-tenant"))),
                None,
            )
        };
        let missing = || {
            source(
                Some(Source::FromContext(ContextKey::parse("metadata.missing"))),
                None,
            )
        };
        let mut attrs = sample();
        for action in [
            // Not applicable: the key exists / does not exist.
            CompiledAction::Insert {
                key: "a".into(),
                source: tenant(),
            },
            CompiledAction::Update {
                key: "new".into(),
                source: tenant(),
            },
            // Nothing found and no default: no change.
            CompiledAction::Insert {
                key: "new".into(),
                source: missing(),
            },
            CompiledAction::Update {
                key: "a".into(),
                source: missing(),
            },
            CompiledAction::Upsert {
                key: "a".into(),
                source: missing(),
            },
        ] {
            run_in(action, &mut attrs, &request);
        }
        assert_eq!(attrs, sample());
        for action in [
            CompiledAction::Insert {
                key: "tenant".into(),
                source: tenant(),
            },
            CompiledAction::Update {
                key: "b".into(),
                source: tenant(),
            },
            CompiledAction::Upsert {
                key: "c".into(),
                source: tenant(),
            },
        ] {
            run_in(action, &mut attrs, &request);
        }
        assert_eq!(keys(&attrs), ["a", "b", "c", "tenant"]);
        for key in ["b", "c", "tenant"] {
            assert_eq!(get(&attrs, key), Some(&s("acme")), "{key}");
        }
    }
}
