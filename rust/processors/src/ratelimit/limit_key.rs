//! The limit key: which bucket a request draws from, built from the
//! metadata keys the configuration names (elastic's format), and the
//! override keys checked against it.

use otelcol_rust_engine::Metadata;

use super::config::DEFAULT_KEY;

/// What a limit key looks like for these metadata keys, for messages.
pub(super) fn key_template(names: &[String]) -> String {
    if names.is_empty() {
        return format!("{DEFAULT_KEY:?}");
    }
    let parts: Vec<String> = names.iter().map(|n| format!("{n}:<values>")).collect();
    format!(
        "\"{}\" (several values of one key joined with ',')",
        parts.join(";")
    )
}

/// The limit key an override key stands for, with the metadata key names
/// lowercased; `None` when it cannot be a limit key for `names`
/// (lowercase). Values are kept as written.
pub(super) fn canonical_key(key: &str, names: &[String]) -> Option<String> {
    if names.is_empty() {
        return (key == DEFAULT_KEY).then(|| key.to_string());
    }
    // ASCII lowercasing keeps every byte offset, so positions found in
    // `lower` cut `key` at the same characters.
    let lower = key.to_ascii_lowercase();
    let mut out = String::with_capacity(key.len());
    let mut pos = 0;
    for (i, name) in names.iter().enumerate() {
        let head = if i == 0 {
            format!("{name}:")
        } else {
            format!(";{name}:")
        };
        if !lower[pos..].starts_with(&head) {
            return None;
        }
        out.push_str(&head);
        pos += head.len();
        let end = match names.get(i + 1) {
            Some(next) => pos + lower[pos..].find(&format!(";{next}:"))?,
            None => key.len(),
        };
        out.push_str(&key[pos..end]);
        pos = end;
    }
    Some(out)
}

/// The outcome of building a request's limit key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LimitKey {
    pub key: String,
    /// Some metadata key had no value (or only empty ones).
    pub missing: bool,
}

/// The limit key of a request: `default` without metadata keys, else
/// `name1:v1,v2;name2:v3` (elastic's format, names lowercased). A missing
/// key contributes `name:` with nothing after the colon.
pub(crate) fn limit_key(names: &[String], metadata: &Metadata) -> LimitKey {
    if names.is_empty() {
        return LimitKey {
            key: DEFAULT_KEY.to_string(),
            missing: false,
        };
    }
    let mut key = String::new();
    let mut missing = false;
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            key.push(';');
        }
        key.push_str(name);
        key.push(':');
        let values = metadata.get(name);
        if values.iter().all(|v| v.is_empty()) {
            missing = true;
        }
        for (j, value) in values.iter().enumerate() {
            if j > 0 {
                key.push(',');
            }
            push_value(&mut key, value);
        }
    }
    LimitKey { key, missing }
}

/// Appends a metadata value: as it is when it is UTF-8, else with each
/// byte of an invalid sequence written as `\xNN`, so that distinct values
/// stay distinct tenants.
fn push_value(key: &mut String, mut value: &[u8]) {
    loop {
        match std::str::from_utf8(value) {
            Ok(s) => {
                key.push_str(s);
                return;
            }
            Err(e) => {
                let (valid, rest) = value.split_at(e.valid_up_to());
                key.push_str(std::str::from_utf8(valid).expect("checked valid"));
                key.push_str(&format!("\\x{:02x}", rest[0]));
                value = &rest[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_keys_must_fit_the_metadata_keys() {
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(canonical_key("A:x;B:y", &names).as_deref(), Some("a:x;b:y"));
        assert_eq!(canonical_key("a:;b:", &names).as_deref(), Some("a:;b:"));
        // Values may hold the separators, as long as the next part is found.
        assert_eq!(
            canonical_key("a:1,2;3;b:Z:z", &names).as_deref(),
            Some("a:1,2;3;b:Z:z")
        );
        assert_eq!(canonical_key("b:y;a:x", &names), None);
        assert_eq!(canonical_key("a:x", &names), None);
        assert_eq!(canonical_key("a:x;c:y", &names), None);
        assert_eq!(canonical_key("xa:x;b:y", &names), None);
        assert_eq!(canonical_key("default", &[]).as_deref(), Some("default"));
        assert_eq!(canonical_key("Default", &[]), None);
        // Non-ASCII values survive.
        assert_eq!(canonical_key("a:É;b:ü", &names).as_deref(), Some("a:É;b:ü"));
    }

    #[test]
    fn limit_keys_use_elastic_format() {
        let md = Metadata::from_entries([
            ("X-Tenant-Id", vec!["acme".to_string()]),
            ("x-env", vec!["a".to_string(), "b".to_string()]),
            ("blank", vec![String::new()]),
        ]);
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            limit_key(&names(&["x-tenant-id", "x-env"]), &md),
            LimitKey {
                key: "x-tenant-id:acme;x-env:a,b".into(),
                missing: false
            }
        );
        assert_eq!(
            limit_key(&names(&["x-tenant-id", "other"]), &md),
            LimitKey {
                key: "x-tenant-id:acme;other:".into(),
                missing: true
            }
        );
        assert!(limit_key(&names(&["blank"]), &md).missing);
        assert_eq!(
            limit_key(&[], &md),
            LimitKey {
                key: "default".into(),
                missing: false
            }
        );
    }
}
