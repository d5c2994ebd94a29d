//! The validated actions and how they edit one attribute list.
//!
//! Attributes are a `Vec<KeyValue>` in OTLP, not a map, and contrib's
//! `pcommon.Map` is the same slice underneath; the edits here follow what
//! `pcommon.Map` does to that slice so that the output is the same list in
//! the same order, not just the same set: a lookup takes the first entry with
//! the key, an insert appends, deleting a key moves the last entry into its
//! place (`Vec::swap_remove`), deleting by pattern keeps the order
//! (`Vec::retain`).
//!
//! The list is walked once per action and keys are compared as `&str`; an
//! action that does not apply to a record neither allocates nor writes, so
//! the cost of a configuration that rarely matches is a scan per action.

use otelcol_rust_engine::proto::common::{any_value, AnyValue, KeyValue};
use regex::Regex;
use sha2::{Digest, Sha256};

/// Where `insert`, `update` and `upsert` take the value from.
#[derive(Debug, Clone)]
pub(crate) enum ValueSource {
    /// A constant from the configuration.
    Value(AnyValue),
    /// Another attribute of the same record.
    FromAttribute(String),
}

impl ValueSource {
    /// The value to write, or `None` when the source attribute is absent
    /// (the action then does nothing). The outer `Option` is "found"; the
    /// inner one is the OTLP field, which may be unset.
    fn resolve(&self, attrs: &[KeyValue]) -> Option<Option<AnyValue>> {
        match self {
            ValueSource::Value(value) => Some(Some(value.clone())),
            ValueSource::FromAttribute(from) => {
                position(attrs, from).map(|i| attrs[i].value.clone())
            }
        }
    }
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
    Delete {
        key: Option<String>,
        pattern: Option<Regex>,
    },
    Hash {
        key: Option<String>,
        pattern: Option<Regex>,
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

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.actions.len()
    }

    /// Runs every action, in order, on one record's attributes.
    pub(crate) fn apply(&self, attrs: &mut Vec<KeyValue>) {
        for action in &self.actions {
            action.apply(attrs);
        }
    }
}

/// The first entry with `key`, as `pcommon.Map.Get` finds it.
fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().position(|kv| kv.key == key)
}

impl CompiledAction {
    fn apply(&self, attrs: &mut Vec<KeyValue>) {
        match self {
            CompiledAction::Insert { key, source } => {
                if position(attrs, key).is_some() {
                    return;
                }
                if let Some(value) = source.resolve(attrs) {
                    attrs.push(KeyValue {
                        key: key.clone(),
                        value,
                        ..Default::default()
                    });
                }
            }
            CompiledAction::Update { key, source } => {
                let Some(i) = position(attrs, key) else {
                    return;
                };
                if let Some(value) = source.resolve(attrs) {
                    attrs[i].value = value;
                }
            }
            CompiledAction::Upsert { key, source } => {
                let Some(value) = source.resolve(attrs) else {
                    return;
                };
                match position(attrs, key) {
                    Some(i) => attrs[i].value = value,
                    None => attrs.push(KeyValue {
                        key: key.clone(),
                        value,
                        ..Default::default()
                    }),
                }
            }
            CompiledAction::Delete { key, pattern } => {
                if let Some(i) = key.as_deref().and_then(|key| position(attrs, key)) {
                    attrs.swap_remove(i);
                }
                if let Some(pattern) = pattern {
                    attrs.retain(|kv| !pattern.is_match(&kv.key));
                }
            }
            CompiledAction::Hash { key, pattern } => {
                // Like contrib, a key that is named and also matches the
                // pattern is hashed twice.
                if let Some(i) = key.as_deref().and_then(|key| position(attrs, key)) {
                    hash_value(&mut attrs[i].value);
                }
                if let Some(pattern) = pattern {
                    for kv in attrs.iter_mut().filter(|kv| pattern.is_match(&kv.key)) {
                        hash_value(&mut kv.value);
                    }
                }
            }
        }
    }
}

/// Replaces a value with the lowercase hex SHA-256 of its bytes, encoded as
/// contrib's `sha2Hasher` encodes them: a string's UTF-8 bytes, a bool as one
/// byte (1 or 0), an int as its 8 little-endian two's-complement bytes, a
/// double as the 8 little-endian bytes of its IEEE-754 bits. Any other value
/// (unset, bytes, array, map) becomes the empty string, as in contrib.
pub(crate) fn hash_value(value: &mut Option<AnyValue>) {
    use any_value::Value;
    let digest = match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => Sha256::digest(s.as_bytes()),
        Some(Value::BoolValue(b)) => Sha256::digest([u8::from(*b)]),
        Some(Value::IntValue(i)) => Sha256::digest(i.to_le_bytes()),
        Some(Value::DoubleValue(d)) => Sha256::digest(d.to_bits().to_le_bytes()),
        _ => return set_str(value, ""),
    };
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).expect("a SHA-256 digest is 64 hex digits");
    set_str(
        value,
        std::str::from_utf8(&hex).expect("hex digits are ASCII"),
    );
}

/// Sets a string value, reusing the value's buffer when it already is one.
fn set_str(value: &mut Option<AnyValue>, s: &str) {
    if let Some(AnyValue {
        value: Some(any_value::Value::StringValue(current)),
    }) = value
    {
        current.clear();
        current.push_str(s);
    } else {
        *value = Some(AnyValue {
            value: Some(any_value::Value::StringValue(s.to_owned())),
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
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

    fn constant(value: Value) -> ValueSource {
        ValueSource::Value(AnyValue { value: Some(value) })
    }

    fn from(key: &str) -> ValueSource {
        ValueSource::FromAttribute(key.into())
    }

    fn run(action: CompiledAction, attrs: &mut Vec<KeyValue>) {
        CompiledActions::new(vec![action]).apply(attrs);
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
                key: Some("b".into()),
                pattern: None,
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["a", "d", "c"]);
        run(
            CompiledAction::Delete {
                key: Some("missing".into()),
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
                key: Some("secret".into()),
                pattern: Some(Regex::new("^http\\.").unwrap()),
            },
            &mut attrs,
        );
        assert_eq!(keys(&attrs), ["keep", "also.keep"]);
    }

    #[test]
    fn hash_encodings_match_contrib() {
        let cases = [
            (
                s("foo"),
                "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            ),
            (
                s(""),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                Value::BoolValue(true),
                "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
            ),
            (
                Value::BoolValue(false),
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            ),
            (
                Value::IntValue(42),
                "ed049108bc18f2c64369e8d0ea42850bdd1a7d1dd340cfde716315579702a76c",
            ),
            (
                Value::IntValue(-1),
                "12a3ae445661ce5dee78d0650d33362dec29c4f82af05e7e57fb595bbbacf0ca",
            ),
            (
                Value::DoubleValue(2.5),
                "5caaabe50da77f59f448b3edf650d68fbca7b858390664c251c52b3f458a881c",
            ),
        ];
        for (value, literal) in cases {
            let independent = match &value {
                Value::StringValue(v) => sha256_hex(v.as_bytes()),
                Value::BoolValue(v) => sha256_hex(&[*v as u8]),
                Value::IntValue(v) => sha256_hex(&(*v as u64).to_le_bytes()),
                Value::DoubleValue(v) => sha256_hex(&f64::to_bits(*v).to_le_bytes()),
                _ => unreachable!(),
            };
            assert_eq!(independent, literal, "{value:?}");
            let mut attrs = vec![kv("k", value.clone())];
            run(
                CompiledAction::Hash {
                    key: Some("k".into()),
                    pattern: None,
                },
                &mut attrs,
            );
            assert_eq!(attrs, [kv("k", s(literal))], "{value:?}");
        }
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
                key: None,
                pattern: Some(Regex::new(".").unwrap()),
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
                key: Some("user.email".into()),
                pattern: Some(Regex::new("^user\\.").unwrap()),
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
                key: Some("copy".into()),
                pattern: None,
            },
            CompiledAction::Delete {
                key: Some("a".into()),
                pattern: None,
            },
        ]);
        let mut attrs = vec![kv("a", s("foo"))];
        actions.apply(&mut attrs);
        assert_eq!(attrs, [kv("copy", s(&sha256_hex(b"foo")))]);
    }
}
