//! Configuration of `rust_attributes`: the serde shape and its validation.
//!
//! Parsing and validating are two steps on purpose. serde checks the shape
//! (unknown fields, types), and reports the path through
//! [`parse_config`](otelcol_rust_engine::parse_config); the rules that tie
//! fields together (an `insert` needs a `key`, `pattern` is only for `delete`
//! and `hash`, ...) are checked afterwards on the whole action, in the order
//! contrib's `attraction.NewAttrProc` checks them, so the first complaint a
//! user sees is the one the Go processor would have shown. Both steps end in
//! a [`ConfigError`] whose path points at one field.
//!
//! Fields that contrib has and this processor does not implement yet
//! (`converted_type`, `include`, `exclude`) are recognised by name so the error says "not supported yet" instead of
//! "unknown field": a user copying a contrib configuration learns what to
//! remove rather than suspecting a typo.

use std::fmt;

use otelcol_rust_engine::go_regex::GoRegex;
use otelcol_rust_engine::{ConfigError, Value};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::action::{CompiledAction, CompiledActions, ContextKey, Source, ValueSource};

/// The processor's configuration section. Serializing it gives the
/// effective configuration (`print-config`): unset optional fields are left
/// out, `action` is written in lowercase; the contrib fields it refuses are
/// never set in a configuration it accepts.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The actions, applied in order to every span, log record and metric
    /// data point. At least one is required.
    #[serde(default)]
    pub actions: Vec<ActionConfig>,
    #[serde(default, deserialize_with = "present", skip_serializing)]
    include: Option<Unsupported>,
    #[serde(default, deserialize_with = "present", skip_serializing)]
    exclude: Option<Unsupported>,
}

/// One entry of `actions`, as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The attribute the action targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The value `insert`, `update` and `upsert` write.
    #[serde(
        default,
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<AttributeValue>,
    /// The attribute of the same record whose value `insert`, `update` and
    /// `upsert` copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_attribute: Option<String>,
    /// Where in the request context `insert`, `update` and `upsert` take
    /// the value from: `metadata.<key>`, `auth.<name>`, `client.address`,
    /// or a bare metadata key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_context: Option<String>,
    /// The value `insert`, `update` and `upsert` write when `from_context`
    /// or `from_attribute` finds nothing, or when it is the only source.
    #[serde(
        default,
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_value: Option<AttributeValue>,
    /// A regular expression (Go's `regexp` syntax and matching) selecting,
    /// by key, more attributes for `delete` and `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// What to do. Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    #[serde(default, deserialize_with = "present", skip_serializing)]
    converted_type: Option<Unsupported>,
}

/// A constant attribute value from the configuration. Only scalars: contrib
/// also accepts lists and maps, which this processor rejects (see README).
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// A string.
    String(String),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

impl AttributeValue {
    /// The value written into attributes.
    pub fn to_value(&self) -> Value {
        match self {
            AttributeValue::String(s) => Value::str(s.clone()),
            AttributeValue::Int(i) => Value::Int(*i),
            AttributeValue::Double(d) => Value::Double(*d),
            AttributeValue::Bool(b) => Value::Bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = AttributeValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, integer, float or boolean")
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(AttributeValue::Bool(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(AttributeValue::Int(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v).map(AttributeValue::Int).map_err(|_| {
                    E::invalid_value(
                        de::Unexpected::Unsigned(v),
                        &"an integer that fits in 64 bits, signed",
                    )
                })
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(AttributeValue::Double(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AttributeValue::String(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(AttributeValue::String(v))
            }

            // YAML's .inf, -.inf and .nan, which contrib inserts as doubles.
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                otelcol_rust_engine::config::non_finite_from_map(map, &self)
                    .map(AttributeValue::Double)
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeValue::String(s) => serializer.serialize_str(s),
            AttributeValue::Int(i) => serializer.serialize_i64(*i),
            AttributeValue::Double(d) => {
                otelcol_rust_engine::config::serialize_float(d, serializer)
            }
            AttributeValue::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

/// `value` (and `default_value`) is present when written at all:
/// `value: null` is an error rather than "no value", which is what a plain
/// `Option` would make of it.
fn some_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<AttributeValue>, D::Error> {
    AttributeValue::deserialize(deserializer).map(Some)
}

/// Marks a contrib field this processor recognises but does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unsupported;

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Unsupported>, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| Some(Unsupported))
}

/// The actions this processor implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Add the attribute when the key is absent.
    Insert,
    /// Replace the value when the key is present.
    Update,
    /// Insert or update.
    Upsert,
    /// Remove the key and/or the keys matching `pattern`.
    Delete,
    /// Replace the value(s) with their SHA-256 in lowercase hex.
    Hash,
}

impl ActionKind {
    /// The name as written in the configuration (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Insert => "insert",
            ActionKind::Update => "update",
            ActionKind::Upsert => "upsert",
            ActionKind::Delete => "delete",
            ActionKind::Hash => "hash",
        }
    }

    /// Parses an action name in any case, as contrib does.
    pub fn parse(name: &str) -> Result<Self, ActionNameError> {
        let lower = name.to_lowercase();
        Ok(match lower.as_str() {
            "insert" => ActionKind::Insert,
            "update" => ActionKind::Update,
            "upsert" => ActionKind::Upsert,
            "delete" => ActionKind::Delete,
            "hash" => ActionKind::Hash,
            "extract" | "convert" => return Err(ActionNameError::NotSupported(lower)),
            _ => return Err(ActionNameError::Unknown(name.to_owned())),
        })
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = ActionKind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an action name (insert, update, upsert, delete or hash)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                ActionKind::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(NameVisitor)
    }
}

impl Serialize for ActionKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An `action` name this processor does not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionNameError {
    /// A contrib action not implemented here yet (`extract`, `convert`).
    NotSupported(String),
    /// Not an action name at all.
    Unknown(String),
}

const SUPPORTED: &str = "insert, update, upsert, delete, hash";

impl fmt::Display for ActionNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionNameError::NotSupported(name) => write!(
                f,
                "action {name:?} is not supported yet by rust_attributes (supported: {SUPPORTED})"
            ),
            ActionNameError::Unknown(name) => {
                write!(
                    f,
                    "unknown action {name:?} (expected one of {SUPPORTED}, in any case)"
                )
            }
        }
    }
}

impl std::error::Error for ActionNameError {}

/// A rule of the configuration that an otherwise well-formed section breaks.
/// Each names the field it is about ([`Problem::field`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `actions` is missing or empty.
    NoActions,
    /// A contrib field this processor does not implement yet.
    NotSupported {
        /// The field's name.
        field: &'static str,
    },
    /// An action without `action`.
    MissingAction,
    /// `insert`, `update` or `upsert` without `key`.
    MissingKey {
        /// The action.
        action: ActionKind,
    },
    /// `delete` or `hash` with neither `key` nor `pattern`.
    MissingKeyOrPattern {
        /// The action.
        action: ActionKind,
    },
    /// `insert`, `update` or `upsert` with none of `value`,
    /// `from_attribute`, `from_context` and `default_value`.
    MissingValueSource {
        /// The action.
        action: ActionKind,
    },
    /// More than one of `value`, `from_attribute` and `from_context`.
    MultipleValueSources {
        /// The action.
        action: ActionKind,
        /// The sources set, in that order (two or three).
        fields: Vec<&'static str>,
    },
    /// A field the action does not use.
    UnusedField {
        /// The action.
        action: ActionKind,
        /// The field's name.
        field: &'static str,
    },
    /// `pattern` is not a valid regular expression.
    InvalidPattern {
        /// The pattern as written.
        pattern: String,
        /// What the regex compiler said.
        reason: String,
    },
}

impl Problem {
    /// The field the problem is about, relative to the action (or to the
    /// section for [`Problem::NoActions`]).
    pub fn field(&self) -> &'static str {
        match self {
            Problem::NoActions => "actions",
            Problem::NotSupported { field } | Problem::UnusedField { field, .. } => field,
            Problem::MissingAction => "action",
            Problem::MissingKey { .. } | Problem::MissingKeyOrPattern { .. } => "key",
            Problem::MissingValueSource { .. } => "value",
            // The source that makes one too many.
            Problem::MultipleValueSources { fields, .. } => fields[1],
            Problem::InvalidPattern { .. } => "pattern",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoActions => f.write_str("at least one action is required"),
            Problem::NotSupported { field } => {
                write!(f, "{field:?} is not supported yet by rust_attributes")
            }
            Problem::MissingAction => write!(f, "missing required field (one of {SUPPORTED})"),
            Problem::MissingKey { action } => {
                write!(f, "missing required field: action \"{action}\" needs a \"key\"")
            }
            Problem::MissingKeyOrPattern { action } => write!(
                f,
                "missing required field: action \"{action}\" needs \"key\", \"pattern\" or both"
            ),
            Problem::MissingValueSource { action } => write!(
                f,
                "missing required field: action \"{action}\" needs one of \"value\", \"from_attribute\", \"from_context\" or \"default_value\""
            ),
            Problem::MultipleValueSources { action, fields } => {
                write!(
                    f,
                    "action \"{action}\" takes only one of \"value\", \"from_attribute\" and \"from_context\", but "
                )?;
                match fields.as_slice() {
                    [a, b] => write!(f, "both {a:?} and {b:?} are set"),
                    _ => write!(f, "all three are set"),
                }
            }
            Problem::UnusedField { action, field } => {
                write!(f, "action \"{action}\" does not use {field:?}; remove it")
            }
            Problem::InvalidPattern { pattern, reason } => {
                write!(
                    f,
                    "invalid regular expression {}: {reason}",
                    otelcol_rust_engine::go_regex::quote_pattern(pattern)
                )
            }
        }
    }
}

impl std::error::Error for Problem {}

fn at_action(index: usize, problem: Problem) -> ConfigError {
    let path = format!("actions[{index}].{}", problem.field());
    ConfigError::at(path, problem.to_string())
}

/// Contrib treats an empty string like an absent field; so do we.
fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.is_empty())
}

impl Config {
    /// Checks the rules serde cannot and compiles the actions (regexes
    /// included) for the processor.
    pub(crate) fn compile(&self) -> Result<CompiledActions, ConfigError> {
        if self.include.is_some() {
            return Err(not_supported_top("include"));
        }
        if self.exclude.is_some() {
            return Err(not_supported_top("exclude"));
        }
        if self.actions.is_empty() {
            return Err(ConfigError::at("actions", Problem::NoActions.to_string()));
        }
        let actions = self
            .actions
            .iter()
            .enumerate()
            .map(|(i, action)| action.compile().map_err(|problem| at_action(i, problem)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompiledActions::new(actions))
    }
}

fn not_supported_top(field: &'static str) -> ConfigError {
    ConfigError::at(field, Problem::NotSupported { field }.to_string())
}

impl ActionConfig {
    fn compile(&self) -> Result<CompiledAction, Problem> {
        if self.converted_type.is_some() {
            return Err(Problem::NotSupported {
                field: "converted_type",
            });
        }
        let action = self.action.ok_or(Problem::MissingAction)?;
        let key = non_empty(&self.key);
        let from_attribute = non_empty(&self.from_attribute);
        let from_context = non_empty(&self.from_context);
        let pattern = non_empty(&self.pattern);
        match action {
            ActionKind::Insert | ActionKind::Update | ActionKind::Upsert => {
                let key = key.ok_or(Problem::MissingKey { action })?.to_owned();
                let sources: Vec<(&'static str, Source)> = [
                    self.value
                        .as_ref()
                        .map(|value| ("value", Source::Value(value.to_value()))),
                    from_attribute
                        .map(|from| ("from_attribute", Source::FromAttribute(from.to_owned()))),
                    from_context
                        .map(|from| ("from_context", Source::FromContext(ContextKey::parse(from)))),
                ]
                .into_iter()
                .flatten()
                .collect();
                if sources.is_empty() && self.default_value.is_none() {
                    return Err(Problem::MissingValueSource { action });
                }
                if sources.len() > 1 {
                    let fields = sources.iter().map(|(field, _)| *field).collect();
                    return Err(Problem::MultipleValueSources { action, fields });
                }
                let source = ValueSource {
                    source: sources.into_iter().next().map(|(_, source)| source),
                    default: self.default_value.as_ref().map(AttributeValue::to_value),
                };
                if pattern.is_some() {
                    return Err(Problem::UnusedField {
                        action,
                        field: "pattern",
                    });
                }
                Ok(match action {
                    ActionKind::Insert => CompiledAction::Insert { key, source },
                    ActionKind::Update => CompiledAction::Update { key, source },
                    _ => CompiledAction::Upsert { key, source },
                })
            }
            ActionKind::Delete | ActionKind::Hash => {
                // Like contrib, `from_context` and `default_value` are not
                // checked here: they are accepted and have no effect.
                if key.is_none() && pattern.is_none() {
                    return Err(Problem::MissingKeyOrPattern { action });
                }
                if self.value.is_some() {
                    return Err(Problem::UnusedField {
                        action,
                        field: "value",
                    });
                }
                if from_attribute.is_some() {
                    return Err(Problem::UnusedField {
                        action,
                        field: "from_attribute",
                    });
                }
                let pattern = pattern
                    .map(|p| {
                        GoRegex::new(p).map_err(|reason| Problem::InvalidPattern {
                            pattern: p.to_owned(),
                            reason,
                        })
                    })
                    .transpose()?;
                // Contrib's action key is the empty string when only a
                // pattern is given, and it still looks that key up.
                let key = key.unwrap_or_default().to_owned();
                Ok(if action == ActionKind::Delete {
                    CompiledAction::Delete { key, pattern }
                } else {
                    CompiledAction::Hash { key, pattern }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otelcol_rust_engine::parse_config;
    use serde_json::json;

    fn compile(value: serde_json::Value) -> Result<CompiledActions, ConfigError> {
        parse_config::<Config>(&value)?.compile()
    }

    fn error(value: serde_json::Value) -> ConfigError {
        match compile(value) {
            Ok(actions) => panic!("expected an error, got {actions:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn parses_every_value_type_and_action_case() {
        let config: Config = parse_config(&json!({"actions": [
            {"key": "s", "value": "x", "action": "INSERT"},
            {"key": "i", "value": -3, "action": "Update"},
            {"key": "u", "value": 7, "action": "upsert"},
            {"key": "d", "value": 1.5, "action": "upsert"},
            {"key": "b", "value": true, "action": "upsert"},
            {"key": "c", "from_attribute": "s", "action": "insert"},
            {"key": "x", "pattern": "^x", "action": "DELETE"},
            {"pattern": "^y", "action": "Hash"},
        ]}))
        .unwrap();
        let values: Vec<_> = config.actions.iter().map(|a| a.value.clone()).collect();
        assert_eq!(
            values[..5],
            [
                Some(AttributeValue::String("x".into())),
                Some(AttributeValue::Int(-3)),
                Some(AttributeValue::Int(7)),
                Some(AttributeValue::Double(1.5)),
                Some(AttributeValue::Bool(true)),
            ]
        );
        let kinds: Vec<_> = config.actions.iter().map(|a| a.action.unwrap()).collect();
        assert_eq!(
            kinds,
            [
                ActionKind::Insert,
                ActionKind::Update,
                ActionKind::Upsert,
                ActionKind::Upsert,
                ActionKind::Upsert,
                ActionKind::Insert,
                ActionKind::Delete,
                ActionKind::Hash,
            ]
        );
        assert_eq!(config.compile().unwrap().len(), 8);
    }

    #[test]
    fn no_actions() {
        for value in [json!({}), json!({"actions": []})] {
            let err = error(value);
            assert_eq!(err.path, "actions");
            assert_eq!(err.to_string(), "actions: at least one action is required");
        }
    }

    #[test]
    fn unknown_fields_name_their_path() {
        let err =
            error(json!({"actions": [{"key": "a", "value": 1, "action": "insert", "colour": 1}]}));
        assert_eq!(err.path, "actions[0].colour");
        assert!(err.message.starts_with("unknown field `colour`"), "{err}");
        let err =
            error(json!({"actions": [{"key": "a", "value": 1, "action": "insert"}], "extra": 1}));
        assert_eq!(err.path, "extra");
        assert!(err.message.starts_with("unknown field `extra`"), "{err}");
    }

    #[test]
    fn contrib_fields_not_supported_yet() {
        let ok = json!({"key": "a", "value": 1, "action": "insert"});
        let err = error(json!({"actions": [ok], "include": {"match_type": "strict"}}));
        assert_eq!(
            err.to_string(),
            "include: \"include\" is not supported yet by rust_attributes"
        );
        let err = error(json!({"actions": [ok], "exclude": null}));
        assert_eq!(err.path, "exclude");
        for action in ["upsert", "delete"] {
            let err = error(json!({"actions": [ok, {
                "key": "a", "action": action, "converted_type": "int",
            }]}));
            assert_eq!(
                err.to_string(),
                "actions[1].converted_type: \"converted_type\" is not supported yet by rust_attributes"
            );
        }
        for name in ["extract", "CONVERT"] {
            let err =
                error(json!({"actions": [{"key": "a", "pattern": "(?P<x>.*)", "action": name}]}));
            assert_eq!(err.path, "actions[0].action");
            assert!(err.message.contains("is not supported yet"), "{err}");
        }
    }

    #[test]
    fn wrong_value_types() {
        for (value, found) in [
            (json!(null), "null"),
            (json!([1, 2]), "sequence"),
            (json!({"a": 1}), "map"),
        ] {
            let err = error(json!({"actions": [
                {"key": "a", "value": 1, "action": "insert"},
                {"key": "b", "value": value, "action": "insert"},
            ]}));
            assert_eq!(err.path, "actions[1].value");
            assert_eq!(
                err.message,
                format!("invalid type: {found}, expected a string, integer, float or boolean")
            );
        }
        let err = error(json!({"actions": [{"key": "a", "value": u64::MAX, "action": "insert"}]}));
        assert_eq!(err.path, "actions[0].value");
        assert!(err.message.contains("fits in 64 bits"), "{err}");
        let err = error(json!({"actions": [{"key": 5, "value": 1, "action": "insert"}]}));
        assert_eq!(err.path, "actions[0].key");
        assert!(
            err.message.starts_with("invalid type: integer `5`"),
            "{err}"
        );
        let err = error(json!({"actions": {"key": "a"}}));
        assert_eq!(err.path, "actions");
    }

    #[test]
    fn bad_action_names() {
        let err = error(json!({"actions": [{"key": "a", "value": 1, "action": "inject"}]}));
        assert_eq!(
            err.to_string(),
            "actions[0].action: unknown action \"inject\" (expected one of insert, update, upsert, delete, hash, in any case)"
        );
        let err = error(json!({"actions": [{"key": "a", "value": 1, "action": 3}]}));
        assert_eq!(err.path, "actions[0].action");
        let err = error(json!({"actions": [{"key": "a", "value": 1}]}));
        assert_eq!(err.path, "actions[0].action");
        assert!(err.message.starts_with("missing required field"), "{err}");
    }

    #[test]
    fn missing_key() {
        for action in ["insert", "update", "upsert"] {
            for key in [json!(null), json!("")] {
                let err = error(json!({"actions": [{"key": key, "value": 1, "action": action}]}));
                assert_eq!(err.path, "actions[0].key");
                assert_eq!(
                    err.message,
                    format!("missing required field: action \"{action}\" needs a \"key\"")
                );
            }
        }
        for action in ["delete", "hash"] {
            let err = error(json!({"actions": [{"action": action, "pattern": ""}]}));
            assert_eq!(err.path, "actions[0].key");
            assert!(
                err.message.contains("needs \"key\", \"pattern\" or both"),
                "{err}"
            );
        }
    }

    #[test]
    fn value_sources() {
        let err = error(json!({"actions": [{"key": "a", "action": "upsert"}]}));
        assert_eq!(
            err.to_string(),
            "actions[0].value: missing required field: action \"upsert\" needs one of \"value\", \"from_attribute\", \"from_context\" or \"default_value\""
        );
        // An empty string is "not set".
        for field in ["from_attribute", "from_context"] {
            let mut action = json!({"key": "a", "action": "upsert"});
            action[field] = json!("");
            let err = error(json!({"actions": [action]}));
            assert_eq!(err.path, "actions[0].value");
        }
        let err = error(
            json!({"actions": [{"key": "a", "action": "insert", "value": 1, "from_attribute": "b"}]}),
        );
        assert_eq!(err.path, "actions[0].from_attribute");
        assert_eq!(
            err.message,
            "action \"insert\" takes only one of \"value\", \"from_attribute\" and \"from_context\", but both \"value\" and \"from_attribute\" are set"
        );
        let err = error(
            json!({"actions": [{"key": "a", "action": "insert", "value": 1, "pattern": "x"}]}),
        );
        assert_eq!(err.path, "actions[0].pattern");
        assert_eq!(
            err.message,
            "action \"insert\" does not use \"pattern\"; remove it"
        );
        let err = error(json!({"actions": [{"key": "a", "action": "delete", "value": 1}]}));
        assert_eq!(err.path, "actions[0].value");
        let err =
            error(json!({"actions": [{"key": "a", "action": "hash", "from_attribute": "b"}]}));
        assert_eq!(err.path, "actions[0].from_attribute");
        assert_eq!(
            err.message,
            "action \"hash\" does not use \"from_attribute\"; remove it"
        );
    }

    #[test]
    fn bad_regex() {
        let err = error(json!({"actions": [
            {"key": "a", "action": "delete"},
            {"key": "b", "action": "hash"},
            {"pattern": "(unclosed", "action": "delete"},
        ]}));
        assert_eq!(err.path, "actions[2].pattern");
        assert!(
            err.message
                .starts_with("invalid regular expression \"(unclosed\": "),
            "{err}"
        );
    }

    #[test]
    fn from_context_and_default_value_combinations() {
        // Every combination contrib accepts for insert, update and upsert:
        // one source, a default alone, or one source with a default.
        let accepted = [
            json!({"from_context": "metadata.x-tenant"}),
            json!({"from_context": "client.address", "default_value": "none"}),
            json!({"from_context": "auth.subject", "default_value": 0}),
            json!({"from_attribute": "b", "default_value": 1.5}),
            json!({"value": "v", "default_value": true}),
            json!({"default_value": "d"}),
            json!({"default_value": "d", "from_context": "", "from_attribute": ""}),
        ];
        for action in ["insert", "update", "upsert"] {
            for fields in &accepted {
                let mut config = fields.clone();
                config["key"] = json!("k");
                config["action"] = json!(action);
                compile(json!({"actions": [config]}))
                    .unwrap_or_else(|err| panic!("{action} {fields}: {err}"));
            }
        }
        let config: Config = parse_config(&json!({"actions": [
            {"key": "k", "action": "upsert", "from_context": "metadata.X", "default_value": -1},
        ]}))
        .unwrap();
        assert_eq!(
            config.actions[0].from_context.as_deref(),
            Some("metadata.X")
        );
        assert_eq!(
            config.actions[0].default_value,
            Some(AttributeValue::Int(-1))
        );
    }

    #[test]
    fn multiple_value_sources_name_the_extra_one() {
        for (fields, path, set) in [
            (
                json!({"value": 1, "from_context": "x"}),
                "from_context",
                "both \"value\" and \"from_context\" are set",
            ),
            (
                json!({"from_attribute": "b", "from_context": "x", "default_value": 1}),
                "from_context",
                "both \"from_attribute\" and \"from_context\" are set",
            ),
            (
                json!({"value": 1, "from_attribute": "b", "from_context": "x"}),
                "from_attribute",
                "all three are set",
            ),
        ] {
            let mut action = fields.clone();
            action["key"] = json!("k");
            action["action"] = json!("update");
            let err = error(json!({"actions": [
                {"key": "a", "value": 1, "action": "insert"},
                {"key": "b", "action": "delete"},
                action,
            ]}));
            assert_eq!(err.path, format!("actions[2].{path}"), "{fields}");
            assert_eq!(
                err.message,
                format!("action \"update\" takes only one of \"value\", \"from_attribute\" and \"from_context\", but {set}"),
            );
        }
    }

    #[test]
    fn from_context_and_default_value_types() {
        for (field, value, found) in [
            ("default_value", json!(null), "null"),
            ("default_value", json!(["a"]), "sequence"),
            ("default_value", json!({"a": 1}), "map"),
        ] {
            let mut action = json!({"key": "k", "action": "insert", "from_context": "x"});
            action[field] = value;
            let err =
                error(json!({"actions": [{"key": "a", "value": 1, "action": "insert"}, action]}));
            assert_eq!(err.path, format!("actions[1].{field}"));
            assert_eq!(
                err.message,
                format!("invalid type: {found}, expected a string, integer, float or boolean")
            );
        }
        let err = error(json!({"actions": [{"key": "k", "action": "insert", "from_context": 3}]}));
        assert_eq!(err.path, "actions[0].from_context");
        assert!(
            err.message.starts_with("invalid type: integer `3`"),
            "{err}"
        );
        let err = error(
            json!({"actions": [{"key": "k", "action": "insert", "default_value": u64::MAX}]}),
        );
        assert_eq!(err.path, "actions[0].default_value");
    }

    #[test]
    fn from_context_and_default_value_rules_per_action() {
        // insert/update/upsert: still a key, and no pattern.
        let err = error(json!({"actions": [{"action": "insert", "from_context": "x"}]}));
        assert_eq!(err.path, "actions[0].key");
        let err = error(json!({"actions": [
            {"key": "k", "action": "upsert", "default_value": 1, "pattern": "p"},
        ]}));
        assert_eq!(err.path, "actions[0].pattern");
        // delete/hash: contrib refuses value and from_attribute but accepts
        // (and ignores) from_context and default_value; so does this one.
        for action in ["delete", "hash"] {
            compile(json!({"actions": [
                {"key": "k", "action": action, "from_context": "x", "default_value": 1},
            ]}))
            .unwrap_or_else(|err| panic!("{action}: {err}"));
            let err = error(json!({"actions": [
                {"key": "k", "action": action, "from_context": "x", "value": 1},
            ]}));
            assert_eq!(err.path, "actions[0].value");
        }
    }
}
