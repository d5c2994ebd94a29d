//! The processor against contrib's own outputs: golden cases produced by
//! running contrib `redactionprocessor` v0.161.0 (`testdata/golden-output.txt`,
//! in the notation of its generator: `{k=Str("v"), ...}` lists a map in
//! order), run here through the engine's test harness on real batches.

use otelcol_rust_engine::proto::common::{
    any_value::Value as V, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use otelcol_rust_engine::proto::logs::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
use otelcol_rust_engine::proto::metrics::{
    metric, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, MetricsData, NumberDataPoint,
    ResourceMetrics, ScopeMetrics,
};
use otelcol_rust_engine::proto::resource::Resource;
use otelcol_rust_engine::proto::trace::{span, ResourceSpans, ScopeSpans, Span, TracesData};
use otelcol_rust_engine::testing::{effect_handler, CollectSink};
use otelcol_rust_engine::{Context, Message, OtlpData, RequestContext};
use serde_json::{json, Value as Json};

use super::FACTORY;

const GOLDEN: &str = include_str!("testdata/golden-output.txt");
const VISA: &str = "4[0-9]{12}(?:[0-9]{3})?";
const HMAC_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// ---- the generator's notation -------------------------------------------

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.at..].starts_with(lit.as_bytes()) {
            self.at += lit.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, lit: &str) {
        assert!(self.eat(lit), "expected {lit:?} at {}", self.rest());
    }

    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.at..]).into_owned()
    }

    fn until(&mut self, end: u8) -> &str {
        let start = self.at;
        while self.s[self.at] != end {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at]).unwrap()
    }

    fn map(&mut self) -> Vec<KeyValue> {
        self.expect("{");
        let mut out = Vec::new();
        while !self.eat("}") {
            let key = self.until(b'=').to_string();
            self.expect("=");
            let value = self.value();
            out.push(KeyValue {
                key,
                value: Some(value),
                ..Default::default()
            });
            self.eat(", ");
        }
        out
    }

    fn value(&mut self) -> AnyValue {
        let v = if self.eat("Str(") {
            let s = self.quoted();
            self.expect(")");
            V::StringValue(s)
        } else if self.eat("Int(") {
            let n = self.until(b')').parse().unwrap();
            self.expect(")");
            V::IntValue(n)
        } else if self.eat("Double(") {
            let t = self.until(b')').to_string();
            self.expect(")");
            V::DoubleValue(match t.as_str() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                t => t.parse().unwrap(),
            })
        } else if self.eat("Bool(") {
            let b = self.until(b')') == "true";
            self.expect(")");
            V::BoolValue(b)
        } else if self.eat("Bytes(") {
            let h = self.until(b')').to_string();
            self.expect(")");
            V::BytesValue(hex::decode(h).unwrap())
        } else if self.eat("Map") {
            V::KvlistValue(KeyValueList { values: self.map() })
        } else if self.eat("Slice[") {
            let mut values = Vec::new();
            while !self.eat("]") {
                values.push(self.value());
                self.eat(", ");
            }
            V::ArrayValue(ArrayValue { values })
        } else if self.eat("Empty") {
            return AnyValue { value: None };
        } else {
            panic!("no value at {}", self.rest())
        };
        AnyValue { value: Some(v) }
    }

    /// A string as Go's `strconv.Quote` wrote it.
    fn quoted(&mut self) -> String {
        self.expect("\"");
        let mut out = String::new();
        let text = std::str::from_utf8(&self.s[self.at..]).unwrap();
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return out;
                }
                '\\' => {
                    let (_, e) = chars.next().unwrap();
                    let mut hex_char = |n: usize| {
                        let h: String = (0..n).map(|_| chars.next().unwrap().1).collect();
                        char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap()
                    };
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'v' => '\u{b}',
                        'a' => '\u{7}',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'x' => hex_char(2),
                        'u' => hex_char(4),
                        'U' => hex_char(8),
                        c => c,
                    });
                }
                c => out.push(c),
            }
        }
        panic!("unterminated string")
    }
}

fn parse_map(s: &str) -> Vec<KeyValue> {
    Parser {
        s: s.as_bytes(),
        at: 0,
    }
    .map()
}

fn parse_value(s: &str) -> AnyValue {
    Parser {
        s: s.as_bytes(),
        at: 0,
    }
    .value()
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{b}' => out.push_str("\\v"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) >= 0x80 && (c.is_whitespace() || c.is_control()) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a float64.
fn go_float(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let e = if d == 0.0 {
        0
    } else {
        d.abs().log10().floor() as i32
    };
    if !(-4..21).contains(&e) {
        let s = format!("{d:e}");
        let (m, x) = s.split_once('e').unwrap();
        let x: i32 = x.parse().unwrap();
        format!("{m}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs())
    } else {
        format!("{d}")
    }
}

fn show_value(v: &AnyValue) -> String {
    match &v.value {
        None => "Empty".into(),
        Some(V::StringValue(s)) => format!("Str({})", quote(s)),
        Some(V::IntValue(i)) => format!("Int({i})"),
        Some(V::DoubleValue(d)) => format!("Double({})", go_float(*d)),
        Some(V::BoolValue(b)) => format!("Bool({b})"),
        Some(V::BytesValue(b)) => format!("Bytes({})", hex::encode(b)),
        Some(V::KvlistValue(m)) => format!("Map{}", show_map(&m.values)),
        Some(V::ArrayValue(a)) => format!(
            "Slice[{}]",
            a.values
                .iter()
                .map(show_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(other) => format!("{other:?}"),
    }
}

fn show_map(kvs: &[KeyValue]) -> String {
    let parts: Vec<String> = kvs
        .iter()
        .map(|kv| {
            let empty = AnyValue::default();
            format!(
                "{}={}",
                kv.key,
                show_value(kv.value.as_ref().unwrap_or(&empty))
            )
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The lines of the golden case whose header starts with `id`.
fn golden(id: &str) -> Vec<&'static str> {
    let header = format!("### {id} ");
    let mut lines = GOLDEN.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with(&header) || l.trim_end() == format!("### {}", id.trim_end()))
        .unwrap_or_else(|| panic!("no golden case {id}"));
    lines.take_while(|l| !l.starts_with("###")).collect()
}

fn field<'a>(lines: &[&'a str], name: &str) -> &'a str {
    let prefix = format!("  {name}");
    let line = lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name:?} in {lines:?}"));
    line[prefix.len()..]
        .trim_start_matches([' ', ':'])
        .trim_start()
}

// ---- running the processor ------------------------------------------------

async fn run(config: &Json, data: OtlpData) -> OtlpData {
    let make = (FACTORY.create)(config).unwrap_or_else(|e| panic!("{config}: {e}"));
    let mut processor = make();
    let sink = CollectSink::new();
    let mut handler = effect_handler(&FACTORY, sink.clone());
    processor
        .process(
            Message::PData(Context::new(RequestContext::new(1), data)),
            &mut handler,
        )
        .await
        .unwrap();
    let mut out = sink.take();
    assert_eq!(out.len(), 1);
    out.pop().unwrap().into_inner()
}

fn kv(key: &str, v: V) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn s(v: &str) -> V {
    V::StringValue(v.into())
}

fn one_span(attrs: Vec<KeyValue>) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: attrs.clone(),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "s".into(),
                    attributes: attrs,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A golden case of contrib's `processAttrs`: the map on a span and on its
/// resource.
async fn attrs_case(id: &str, config: Json) {
    let lines = golden(id);
    let input = parse_map(field(&lines, "in"));
    let want = field(&lines, "out");
    let mut out = run(&config, OtlpData::from_traces(one_span(input))).await;
    let traces = out.traces_mut().unwrap();
    let rs = &traces.resource_spans[0];
    assert_eq!(
        show_map(&rs.scope_spans[0].spans[0].attributes),
        want,
        "{id} span"
    );
    assert_eq!(
        show_map(&rs.resource.as_ref().unwrap().attributes),
        want,
        "{id} resource"
    );
}

/// A golden case of a log record: its body and attributes.
async fn body_case(id: &str, config: Json) {
    let lines = golden(id);
    let body = parse_value(field(&lines, "body in"));
    let attrs = parse_map(field(&lines, "attrs in"));
    let logs = LogsData {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: body.value.is_some().then_some(body),
                    attributes: attrs,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut out = run(&config, OtlpData::from_logs(logs)).await;
    let logs = out.logs_mut().unwrap();
    let record = &logs.resource_logs[0].scope_logs[0].log_records[0];
    let body = record.body.clone().unwrap_or_default();
    assert_eq!(show_value(&body), field(&lines, "body out"), "{id} body");
    assert_eq!(
        show_map(&record.attributes),
        field(&lines, "attrs out"),
        "{id} attributes"
    );
}

fn debug_all(extra: Json) -> Json {
    let mut c = json!({"allow_all_keys": true, "summary": "debug"});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

#[tokio::test]
async fn golden_summary_and_removal() {
    attrs_case(
        "G01",
        json!({"allowed_keys": ["a", "c", "e"], "summary": "debug"}),
    )
    .await;
    attrs_case("G02", json!({"summary": "info"})).await;
    attrs_case(
        "G03",
        json!({"allowed_keys": ["a"], "blocked_values": ["[0-9]+"]}),
    )
    .await;
    attrs_case("G04", json!({"allowed_keys": ["a"], "summary": "DEBUG"})).await;
    let g05 = json!({
        "allowed_keys": ["id", "name", "token_x", "email", "num", "safe"],
        "ignored_keys": ["safe"],
        "ignored_key_patterns": ["^ign_"],
        "blocked_key_patterns": ["token"],
        "blocked_values": [VISA],
        "allowed_values": [".+@mycompany\\.com"],
        "summary": "debug",
    });
    attrs_case("G05", g05.clone()).await;
    let mut g06 = g05;
    g06["summary"] = json!("info");
    attrs_case("G06", g06).await;
    attrs_case("G07", json!({"ignored_keys": ["k"], "summary": "debug"})).await;
    attrs_case("G22", json!({"allowed_keys": ["id", "credit_card", "mystery"], "blocked_values": [VISA], "summary": "debug"})).await;
    attrs_case(
        "G23",
        debug_all(json!({"ignored_keys": ["i"], "blocked_values": ["s"]})),
    )
    .await;
    attrs_case("G24", json!({"allowed_keys": ["a"], "summary": "debug"})).await;
    attrs_case("G25", json!({"allowed_keys": ["keep"], "summary": "debug"})).await;
}

#[tokio::test]
async fn golden_values_and_types() {
    attrs_case(
        "G08",
        debug_all(json!({"blocked_key_patterns": ["secret"], "allowed_values": ["^ok$"]})),
    )
    .await;
    attrs_case(
        "G09",
        debug_all(json!({"blocked_values": ["[0-9]+"], "allowed_values": ["@mycompany"]})),
    )
    .await;
    attrs_case("G10", debug_all(json!({"blocked_values": ["[0-9]+"]}))).await;
    attrs_case(
        "G11",
        debug_all(json!({"blocked_values": ["[0-9]+"], "redact_all_types": true})),
    )
    .await;
    attrs_case("G12", debug_all(json!({"blocked_key_patterns": [".*"]}))).await;
    attrs_case("G13", debug_all(json!({"blocked_key_patterns": [".*"], "redact_all_types": true, "hash_function": "md5"}))).await;
    attrs_case("G14", debug_all(json!({"allowed_values": ["^$"]}))).await;
    attrs_case("G15", debug_all(json!({"blocked_values": ["x*"]}))).await;
    attrs_case(
        "G16",
        debug_all(json!({"blocked_values": ["SECRET"], "redact_all_types": true})),
    )
    .await;
    attrs_case(
        "G16b",
        debug_all(json!({"blocked_values": ["^$"], "redact_all_types": true})),
    )
    .await;
}

#[tokio::test]
async fn golden_patterns_and_hashes() {
    attrs_case(
        "G17",
        debug_all(json!({"blocked_values": ["a*"], "blocked_key_patterns": ["^k"]})),
    )
    .await;
    attrs_case(
        "G18",
        debug_all(json!({"blocked_values": [r"\b\d{3}-\d{4}\b", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"]})),
    )
    .await;
    attrs_case(
        "G19",
        debug_all(json!({"blocked_values": ["[0-9]{4}"], "hash_function": "sha1"})),
    )
    .await;
    for h in ["", "md5", "sha1", "sha3", "hmac-sha256", "hmac-sha512"] {
        attrs_case(
            &format!("G20 hash {h}"),
            json!({
                "allow_all_keys": true,
                "blocked_values": ["4[0-9]{15}"],
                "blocked_key_patterns": ["token"],
                "hash_function": h,
                "hmac_key": HMAC_KEY,
                "summary": "silent",
            }),
        )
        .await;
    }
    attrs_case(
        "G21",
        debug_all(json!({"blocked_values": [r"\d+", r"é\w+", r"\s"]})),
    )
    .await;
}

#[tokio::test]
async fn golden_log_bodies() {
    body_case(
        "L01",
        json!({"allowed_keys": ["a"], "blocked_values": ["4[0-9]{15}"], "summary": "debug"}),
    )
    .await;
    body_case("L02", debug_all(json!({"blocked_values": ["4[0-9]{15}"]}))).await;
    body_case(
        "L03",
        debug_all(json!({"blocked_values": ["4[0-9]{15}"], "allowed_values": ["card"]})),
    )
    .await;
    body_case(
        "L04",
        json!({
            "allowed_keys": ["id", "email", "credit_card", "nested", "slice", "deep", "tok"],
            "blocked_values": [VISA],
            "ignored_keys": ["safe_attribute"],
            "allowed_values": [".+@mycompany.com"],
            "blocked_key_patterns": ["^tok"],
            "summary": "debug",
        }),
    )
    .await;
    body_case("L05", debug_all(json!({"blocked_values": ["[0-9]+"]}))).await;
    body_case("L06", debug_all(json!({"blocked_key_patterns": ["secret"], "allowed_values": ["ok"], "hash_function": "md5"}))).await;
    body_case("L07", debug_all(json!({"blocked_values": ["^$"]}))).await;
    body_case("L08", json!({"allowed_keys": ["k", "redaction.body.masked.keys"], "blocked_values": ["[0-9]+"], "summary": "debug"})).await;
    body_case("L13", json!({"allowed_keys": ["a"], "summary": "info"})).await;
}

fn keep_drop(secret: &str) -> Vec<KeyValue> {
    vec![kv("keep", s(secret)), kv("drop", s("x"))]
}

const REDACTED_AND_MASKED: &str =
    "{keep=Str(\"****\"), redaction.redacted.count=Int(1), redaction.masked.count=Int(1)}";

#[tokio::test]
async fn golden_s01_traces_touch_resource_scope_span_events_not_links_or_names() {
    let config = json!({"allowed_keys": ["keep"], "blocked_values": ["SECRET"], "summary": "info"});
    let traces = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: keep_drop("SECRET"),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(otelcol_rust_engine::proto::common::InstrumentationScope {
                    attributes: keep_drop("SECRET"),
                    ..Default::default()
                }),
                spans: vec![Span {
                    name: "SECRET /users/123".into(),
                    kind: span::SpanKind::Client as i32,
                    attributes: keep_drop("SECRET"),
                    events: vec![span::Event {
                        attributes: keep_drop("SECRET"),
                        ..Default::default()
                    }],
                    links: vec![span::Link {
                        attributes: keep_drop("SECRET"),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut out = run(&config, OtlpData::from_traces(traces)).await;
    let rs = &out.traces_mut().unwrap().resource_spans[0];
    assert_eq!(
        show_map(&rs.resource.as_ref().unwrap().attributes),
        REDACTED_AND_MASKED
    );
    let ss = &rs.scope_spans[0];
    assert_eq!(
        show_map(&ss.scope.as_ref().unwrap().attributes),
        REDACTED_AND_MASKED
    );
    let span = &ss.spans[0];
    assert_eq!(show_map(&span.attributes), REDACTED_AND_MASKED);
    assert_eq!(span.name, "SECRET /users/123");
    assert_eq!(show_map(&span.events[0].attributes), REDACTED_AND_MASKED);
    assert_eq!(
        show_map(&span.links[0].attributes),
        "{keep=Str(\"SECRET\"), drop=Str(\"x\")}"
    );
}

#[tokio::test]
async fn golden_s02_metrics_touch_points_not_exemplars() {
    let config = json!({"allowed_keys": ["keep"], "blocked_values": ["SECRET"], "summary": "info"});
    let metrics = MetricsData {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "SECRET".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                attributes: keep_drop("SECRET"),
                                exemplars: vec![Exemplar {
                                    filtered_attributes: keep_drop("SECRET"),
                                    ..Default::default()
                                }],
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: keep_drop("SECRET"),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut out = run(&config, OtlpData::from_metrics(metrics)).await;
    let ms = &out.metrics_mut().unwrap().resource_metrics[0].scope_metrics[0].metrics;
    let Some(metric::Data::Gauge(g)) = &ms[0].data else {
        panic!()
    };
    assert_eq!(show_map(&g.data_points[0].attributes), REDACTED_AND_MASKED);
    assert_eq!(
        show_map(&g.data_points[0].exemplars[0].filtered_attributes),
        "{keep=Str(\"SECRET\"), drop=Str(\"x\")}"
    );
    assert_eq!(ms[0].name, "SECRET");
    let Some(metric::Data::Histogram(h)) = &ms[1].data else {
        panic!()
    };
    assert_eq!(show_map(&h.data_points[0].attributes), REDACTED_AND_MASKED);
}

#[tokio::test]
async fn golden_s03_duplicate_keys_are_each_processed_and_removed() {
    let lines = golden("S03");
    let config =
        json!({"allowed_keys": ["keep"], "blocked_values": ["SECRET"], "summary": "debug"});
    let input = parse_map(field(&lines, "in"));
    assert_eq!(input.len(), 5, "duplicates survive the parser");
    let mut out = run(&config, OtlpData::from_traces(one_span(input))).await;
    let span = &out.traces_mut().unwrap().resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(show_map(&span.attributes), field(&lines, "out"));
}

#[tokio::test]
async fn a_batch_nothing_matches_stays_original_and_counters_count() {
    let config = json!({"allow_all_keys": true, "blocked_values": [VISA]});
    let bytes = prost::Message::encode_to_vec(&one_span(vec![kv("a", s("nothing here"))]));
    let data = OtlpData::from_original(otelcol_rust_engine::Signal::Traces, bytes.into());
    let out = run(&config, data).await;
    assert!(out.is_original());

    let make = (FACTORY.create)(&json!({"allowed_keys": ["a"], "blocked_values": ["x"]})).unwrap();
    let mut processor = make();
    let sink = CollectSink::new();
    let mut handler = effect_handler(&FACTORY, sink.clone());
    let traces = one_span(vec![kv("a", s("x")), kv("b", s("y")), kv("c", s("z"))]);
    processor
        .process(
            Message::PData(Context::new(
                RequestContext::new(1),
                OtlpData::from_traces(traces),
            )),
            &mut handler,
        )
        .await
        .unwrap();
    // Resource and span: one value masked and two keys removed each.
    assert_eq!(handler.counter_values(), vec![2, 4]);
}

#[tokio::test]
async fn golden_url_sanitizer_on_attributes_and_bodies() {
    attrs_case(
        "G26",
        debug_all(json!({"url_sanitizer": {"enabled": true, "attributes": ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]}})),
    )
    .await;
    // Every body string, whatever the attribute list says.
    body_case(
        "L09",
        debug_all(json!({"url_sanitizer": {"enabled": true, "attributes": ["nothing"]}})),
    )
    .await;
}

async fn span_name(
    config: &Json,
    name: &str,
    kind: span::SpanKind,
    attrs: Vec<KeyValue>,
) -> String {
    let mut traces = one_span(attrs);
    let span = &mut traces.resource_spans[0].scope_spans[0].spans[0];
    span.name = name.into();
    span.kind = kind as i32;
    let mut out = run(config, OtlpData::from_traces(traces)).await;
    out.traces_mut().unwrap().resource_spans[0].scope_spans[0].spans[0]
        .name
        .clone()
}

#[tokio::test]
async fn golden_span_names() {
    use span::SpanKind::{Client, Internal, Server};
    let url = json!({"allow_all_keys": true, "url_sanitizer": {"enabled": true}});
    for id in ["N01", "N02", "N03", "N09"] {
        let lines = golden(id);
        let header = GOLDEN
            .lines()
            .find(|l| l.starts_with(&format!("### {id} ")))
            .unwrap();
        let kind = if header.contains("kind=Server") {
            Server
        } else {
            Client
        };
        let attrs = if header.contains("http.route") {
            vec![kv("http.route", s("x"))]
        } else {
            vec![]
        };
        let config = if id == "N09" {
            json!({"allow_all_keys": true, "blocked_values": ["SECRET"]})
        } else {
            url.clone()
        };
        let input = Parser {
            s: field(&lines, "in").as_bytes(),
            at: 0,
        }
        .quoted();
        let want = Parser {
            s: field(&lines, "out").as_bytes(),
            at: 0,
        }
        .quoted();
        assert_eq!(span_name(&config, &input, kind, attrs).await, want, "{id}");
    }
    // Only server and client spans; the name needs a `/` or an HTTP
    // attribute that survived redaction; allowed values protect it;
    // sanitize_span_name: false turns it off.
    assert_eq!(
        span_name(&url, "/users/123", Internal, vec![]).await,
        "/users/123"
    );
    assert_eq!(
        span_name(
            &url,
            "GET users?id=1",
            Server,
            vec![kv("http.method", s("GET"))]
        )
        .await,
        "GET users",
        "an HTTP span's name without a slash"
    );
    assert_eq!(
        span_name(&url, "GET users?id=1", Server, vec![]).await,
        "GET users?id=1"
    );
    let dropped = json!({"allowed_keys": ["a"], "url_sanitizer": {"enabled": true}});
    assert_eq!(
        span_name(
            &dropped,
            "GET users?id=1",
            Server,
            vec![kv("http.method", s("GET"))]
        )
        .await,
        "GET users?id=1",
        "the HTTP attribute was removed first"
    );
    let allowed = json!({"allow_all_keys": true, "allowed_values": ["^/users"], "url_sanitizer": {"enabled": true}});
    assert_eq!(
        span_name(&allowed, "/users/123", Server, vec![]).await,
        "/users/123"
    );
    let off = json!({"allow_all_keys": true, "url_sanitizer": {"enabled": true, "sanitize_span_name": false}});
    assert_eq!(
        span_name(&off, "/users/123", Server, vec![]).await,
        "/users/123"
    );
}

/// The loadtest's batch and configuration, timed in Rust alone (index,
/// redaction passes, edit list): `cargo test --release -p
/// otelcol-rust-processors redaction_cost -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn redaction_cost() {
    let config = json!({
        "allow_all_keys": true,
        "summary": "info",
        "blocked_values": [
            "4[0-9]{12}(?:[0-9]{3})?", "5[1-5][0-9]{14}", "3[47][0-9]{13}",
            "[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}",
            "(?i)bearer\\s+[a-z0-9._~+/-]+=*",
            "eyJ[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]+",
            "\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b",
            "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b",
            "(?i)api[_-]?key[=:][a-z0-9]{16,}",
            "\\+[0-9]{1,3} [0-9]{3} [0-9]{3} [0-9]{4}",
        ],
    });
    let spans: Vec<Span> = (0..1000)
        .map(|i| {
            let mut attributes = vec![
                kv("http.method", s("POST")),
                kv("http.url", s("https://shop.example.com/api/checkout?cart=42&step=payment")),
                kv("http.status_code", V::IntValue(200)),
                kv("user.email", s(&format!("customer{}@example.com", i % 97))),
                kv("client.address", s(&format!("10.1.{}.{}", i % 7, i % 251))),
            ];
            attributes.push(kv(
                "http.request.header.authorization",
                s(if i % 4 == 0 {
                    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
                } else {
                    "none"
                }),
            ));
            attributes.push(if i % 10 == 0 {
                kv("payment.card", s("4111111111111111"))
            } else {
                kv("payment.method", s("wallet"))
            });
            attributes.push(kv(
                "message",
                s(&format!("order {} accepted for shipping to warehouse north-{}", 100000 + i, i % 5)),
            ));
            attributes.push(kv("thread.id", V::IntValue(i % 16)));
            Span {
                name: "POST /api/checkout".into(),
                kind: span::SpanKind::Server as i32,
                attributes,
                ..Default::default()
            }
        })
        .collect();
    let mut traces = one_span(vec![]);
    traces.resource_spans[0].scope_spans[0].spans = spans;
    let bytes = bytes::Bytes::from(prost::Message::encode_to_vec(&traces));
    let make = (FACTORY.create)(&config).unwrap();
    let mut processor = make();
    let sink = CollectSink::new();
    let mut handler = effect_handler(&FACTORY, sink.clone());
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let data = OtlpData::from_original(otelcol_rust_engine::Signal::Traces, bytes.clone());
        processor
            .process(
                Message::PData(Context::new(RequestContext::new(1), data)),
                &mut handler,
            )
            .await
            .unwrap();
        sink.take();
    }
    let per_span = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds * 1000);
    println!("rust_redaction in Rust: {per_span:.3} µs/span");
}
