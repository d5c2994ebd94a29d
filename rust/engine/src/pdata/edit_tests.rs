//! Edits checked against a reference: the same operations applied with
//! `pcommon.Map` semantics to prost's decoded types must give the same
//! batch as the edit layers, whether they are spliced into the encoding or
//! replayed by a later pass.

use bytes::Bytes;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message as _;

use super::attributes::put_u32;
use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const KEYS: &[&str] = &["a", "b", "c", "", "dup", "internal.x", "internal.y"];

fn attrs(rng: &mut Rng) -> Vec<KeyValue> {
    (0..rng.below(6))
        .map(|i| KeyValue {
            key: KEYS[rng.below(KEYS.len() as u64) as usize].to_string(),
            value: Some(AnyValue {
                value: match rng.below(5) {
                    0 => None,
                    1 => Some(any_value::Value::StringValue(format!("v{i}"))),
                    2 => Some(any_value::Value::IntValue(i as i64 - 2)),
                    3 => Some(any_value::Value::ArrayValue(ArrayValue {
                        values: vec![AnyValue {
                            value: Some(any_value::Value::BoolValue(true)),
                        }],
                    })),
                    _ => Some(any_value::Value::DoubleValue(0.5)),
                },
            }),
            ..Default::default()
        })
        .collect()
}

fn traces(rng: &mut Rng) -> TracesData {
    TracesData {
        resource_spans: (0..1 + rng.below(3))
            .map(|_| ResourceSpans {
                resource: Some(Resource {
                    attributes: attrs(rng),
                    ..Default::default()
                }),
                scope_spans: (0..rng.below(3))
                    .map(|_| ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: "s".into(),
                            attributes: attrs(rng),
                            ..Default::default()
                        }),
                        spans: (0..rng.below(4))
                            .map(|_| Span {
                                name: "op".into(),
                                attributes: attrs(rng),
                                events: (0..rng.below(3))
                                    .map(|_| span::Event {
                                        name: "e".into(),
                                        attributes: attrs(rng),
                                        ..Default::default()
                                    })
                                    .collect(),
                                links: (0..rng.below(2))
                                    .map(|_| span::Link {
                                        attributes: attrs(rng),
                                        ..Default::default()
                                    })
                                    .collect(),
                                ..Default::default()
                            })
                            .collect(),
                        schema_url: "x".into(),
                    })
                    .collect(),
                schema_url: String::new(),
            })
            .collect(),
    }
}

fn logs(rng: &mut Rng) -> LogsData {
    LogsData {
        resource_logs: (0..1 + rng.below(2))
            .map(|_| ResourceLogs {
                resource: Some(Resource {
                    attributes: attrs(rng),
                    ..Default::default()
                }),
                scope_logs: (0..1 + rng.below(2))
                    .map(|_| ScopeLogs {
                        log_records: (0..rng.below(4))
                            .map(|_| LogRecord {
                                attributes: attrs(rng),
                                severity_text: "INFO".into(),
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

fn metrics(rng: &mut Rng) -> MetricsData {
    let ndp = |rng: &mut Rng| NumberDataPoint {
        attributes: attrs(rng),
        time_unix_nano: 1,
        ..Default::default()
    };
    MetricsData {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "g".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: (0..2).map(|_| ndp(rng)).collect(),
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "s".into(),
                        data: Some(metric::Data::Sum(Sum {
                            data_points: vec![ndp(rng)],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "h".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                attributes: attrs(rng),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "e".into(),
                        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                            data_points: vec![ExponentialHistogramDataPoint {
                                attributes: attrs(rng),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "q".into(),
                        data: Some(metric::Data::Summary(Summary {
                            data_points: vec![SummaryDataPoint {
                                attributes: attrs(rng),
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            resource: Some(Resource {
                attributes: attrs(rng),
                ..Default::default()
            }),
            ..Default::default()
        }],
    }
}

/// What a test pass does to one map: a function of the map's target, so
/// that the reference can do the same.
fn script(seed: u64, t: Target) -> Vec<u8> {
    let mut rng = Rng(seed
        ^ ((t.kind as u64) << 40)
        ^ ((t.resource as u64) << 30)
        ^ ((t.scope as u64) << 20)
        ^ ((t.item as u64) << 10)
        ^ t.sub as u64
        ^ 0x9e37_79b9);
    (0..rng.below(5)).map(|_| rng.below(8) as u8).collect()
}

/// The operations, on anything with pcommon.Map's semantics.
trait MapLike {
    fn len(&self) -> usize;
    fn set(&mut self, i: usize, v: Value);
    fn put(&mut self, k: &[u8], v: Value);
    fn remove(&mut self, k: &[u8]);
    fn retain(&mut self, f: &dyn Fn(&[u8]) -> bool);
}

fn run(m: &mut dyn MapLike, ops: &[u8]) {
    for &op in ops {
        match op {
            0 if m.len() > 0 => m.set(m.len() - 1, Value::str("set")),
            1 => m.put(b"a", Value::Int(7)),
            2 => m.put(b"new", Value::Bytes(vec![1, 2].into())),
            3 => m.remove(b"dup"),
            4 => m.retain(&|k: &[u8]| !k.starts_with(b"internal.")),
            5 => m.remove(b""),
            // Sets of one entry in several passes: the later voids the
            // earlier in the edit list.
            6 if m.len() > 0 => m.set(0, Value::Int(m.len() as i64 * 10 + 1)),
            7 if m.len() > 1 => m.set(1, Value::str(format!("n{}", m.len()))),
            _ => {}
        }
    }
}

impl MapLike for Attributes<'_> {
    fn len(&self) -> usize {
        Attributes::len(self)
    }
    fn set(&mut self, i: usize, v: Value) {
        Attributes::set(self, i, v.as_ref())
    }
    fn put(&mut self, k: &[u8], v: Value) {
        Attributes::put(self, k, v.as_ref())
    }
    fn remove(&mut self, k: &[u8]) {
        Attributes::remove(self, k);
    }
    fn retain(&mut self, f: &dyn Fn(&[u8]) -> bool) {
        Attributes::retain(self, |k, _| f(k));
    }
}

fn to_any(v: Value) -> Option<AnyValue> {
    let mut buf = Vec::new();
    v.as_ref().encode(&mut buf);
    Some(AnyValue::decode(buf.as_slice()).unwrap())
}

impl MapLike for Vec<KeyValue> {
    fn len(&self) -> usize {
        <[KeyValue]>::len(self)
    }
    fn set(&mut self, i: usize, v: Value) {
        self[i].value = to_any(v);
    }
    fn put(&mut self, k: &[u8], v: Value) {
        let k = std::str::from_utf8(k).unwrap();
        match self.iter().position(|kv| kv.key == k) {
            Some(i) => self[i].value = to_any(v),
            None => self.push(KeyValue {
                key: k.into(),
                value: to_any(v),
                ..Default::default()
            }),
        }
    }
    fn remove(&mut self, k: &[u8]) {
        if let Some(i) = self.iter().position(|kv| kv.key.as_bytes() == k) {
            self.swap_remove(i);
        }
    }
    fn retain(&mut self, f: &dyn Fn(&[u8]) -> bool) {
        Vec::retain(self, |kv| f(kv.key.as_bytes()));
    }
}

fn target(kind: TargetKind, resource: usize, scope: usize, item: usize, sub: usize) -> Target {
    Target {
        kind,
        resource: resource as u32,
        scope: scope as u32,
        item: item as u32,
        sub: sub as u32,
    }
}

fn reference_traces(td: &mut TracesData, seed: u64, select: Select) {
    let go = |t: Target, m: &mut Vec<KeyValue>| {
        if select.includes(t.kind) {
            run(m, &script(seed, t))
        }
    };
    for (r, rs) in td.resource_spans.iter_mut().enumerate() {
        go(
            target(TargetKind::Resource, r, 0, 0, 0),
            &mut rs.resource.get_or_insert_default().attributes,
        );
        for (s, ss) in rs.scope_spans.iter_mut().enumerate() {
            go(
                target(TargetKind::Scope, r, s, 0, 0),
                &mut ss.scope.get_or_insert_default().attributes,
            );
            for (i, sp) in ss.spans.iter_mut().enumerate() {
                go(target(TargetKind::Span, r, s, i, 0), &mut sp.attributes);
                for (e, ev) in sp.events.iter_mut().enumerate() {
                    go(
                        target(TargetKind::SpanEvent, r, s, i, e),
                        &mut ev.attributes,
                    );
                }
                for (l, li) in sp.links.iter_mut().enumerate() {
                    go(target(TargetKind::SpanLink, r, s, i, l), &mut li.attributes);
                }
            }
        }
    }
}

fn reference_logs(ld: &mut LogsData, seed: u64, select: Select) {
    for (r, rl) in ld.resource_logs.iter_mut().enumerate() {
        let t = target(TargetKind::Resource, r, 0, 0, 0);
        if select.includes(t.kind) {
            run(
                &mut rl.resource.get_or_insert_default().attributes,
                &script(seed, t),
            );
        }
        for (s, sl) in rl.scope_logs.iter_mut().enumerate() {
            for (i, lr) in sl.log_records.iter_mut().enumerate() {
                let t = target(TargetKind::LogRecord, r, s, i, 0);
                if select.includes(t.kind) {
                    run(&mut lr.attributes, &script(seed, t));
                }
            }
        }
    }
}

fn reference_metrics(md: &mut MetricsData, seed: u64, select: Select) {
    for (r, rm) in md.resource_metrics.iter_mut().enumerate() {
        for (s, sm) in rm.scope_metrics.iter_mut().enumerate() {
            for (i, m) in sm.metrics.iter_mut().enumerate() {
                let go = |kind, j: usize, a: &mut Vec<KeyValue>| {
                    let t = target(kind, r, s, i, j);
                    if select.includes(kind) {
                        run(a, &script(seed, t));
                    }
                };
                match m.data.as_mut().unwrap() {
                    metric::Data::Gauge(g) => {
                        g.data_points.iter_mut().enumerate().for_each(|(j, p)| {
                            go(TargetKind::NumberDataPoint, j, &mut p.attributes)
                        })
                    }
                    metric::Data::Sum(g) => {
                        g.data_points.iter_mut().enumerate().for_each(|(j, p)| {
                            go(TargetKind::NumberDataPoint, j, &mut p.attributes)
                        })
                    }
                    metric::Data::Histogram(g) => {
                        g.data_points.iter_mut().enumerate().for_each(|(j, p)| {
                            go(TargetKind::HistogramDataPoint, j, &mut p.attributes)
                        })
                    }
                    metric::Data::ExponentialHistogram(g) => {
                        g.data_points.iter_mut().enumerate().for_each(|(j, p)| {
                            go(
                                TargetKind::ExponentialHistogramDataPoint,
                                j,
                                &mut p.attributes,
                            )
                        })
                    }
                    metric::Data::Summary(g) => {
                        g.data_points.iter_mut().enumerate().for_each(|(j, p)| {
                            go(TargetKind::SummaryDataPoint, j, &mut p.attributes)
                        })
                    }
                }
            }
        }
        let t = target(TargetKind::Resource, r, 0, 0, 0);
        if select.includes(t.kind) {
            run(
                &mut rm.resource.get_or_insert_default().attributes,
                &script(seed, t),
            );
        }
    }
}

fn edit(data: &mut OtlpData, seed: u64, select: Select) {
    let mut seen = Vec::new();
    data.edit_attributes(select, |t, a| {
        seen.push(t);
        run(a, &script(seed, t));
    })
    .unwrap();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "maps are visited in target order");
}

/// Prost leaves a missing resource or scope as None where the reference
/// made an empty one: compare encodings after normalising through a decode
/// of both.
fn normalise_traces(mut td: TracesData) -> Vec<u8> {
    for rs in &mut td.resource_spans {
        rs.resource.get_or_insert_default();
        for ss in &mut rs.scope_spans {
            ss.scope.get_or_insert_default();
        }
    }
    td.encode_to_vec()
}

#[test]
fn trace_edits_match_the_reference_in_every_form() {
    let selections = [
        Select::ALL,
        Select::RECORDS,
        Select::RESOURCE.union(Select::SPAN_EVENTS),
    ];
    for seed in 1..300u64 {
        let mut rng = Rng(seed * 7919);
        let original = traces(&mut rng);
        let go_bytes = Bytes::from(original.encode_to_vec());
        let mut expected = original.clone();
        let mut data = OtlpData::from_original(Signal::Traces, go_bytes.clone());
        for (pass, select) in selections.iter().enumerate() {
            let pass_seed = seed * 31 + pass as u64;
            reference_traces(&mut expected, pass_seed, *select);
            edit(&mut data, pass_seed, *select);
        }
        // Spliced into the encoding.
        let spliced = TracesData::decode(data.to_encoded().unwrap().as_ref()).unwrap();
        assert_eq!(
            normalise_traces(spliced),
            normalise_traces(expected.clone()),
            "seed {seed}"
        );
        // Read back through the layers.
        let mut via_layers = Vec::new();
        data.visit_attributes(Select::RECORDS, |t, a| {
            via_layers.push((
                t,
                a.iter()
                    .map(|(k, v)| (k.to_vec(), v.to_owned()))
                    .collect::<Vec<_>>(),
            ));
        })
        .unwrap();
        let mut spliced_data = OtlpData::from_encoded(
            Signal::Traces,
            Bytes::from(data.to_encoded().unwrap().into_owned()),
        );
        let mut via_splice = Vec::new();
        spliced_data
            .visit_attributes(Select::RECORDS, |t, a| {
                via_splice.push((
                    t,
                    a.iter()
                        .map(|(k, v)| (k.to_vec(), v.to_owned()))
                        .collect::<Vec<_>>(),
                ));
            })
            .unwrap();
        assert_eq!(via_layers, via_splice, "seed {seed}");
        assert_eq!(data.is_original(), !data.has_edits());
        // Replayed from the edit list, as Go does.
        if let Outgoing::Edits(list) = data.outgoing(true).unwrap() {
            let mut replayed = original.clone();
            let layers = replay(&list, &mut replayed);
            assert_eq!(
                layers, 1,
                "seed {seed}: the passes' layers are merged into one"
            );
            assert_eq!(
                normalise_traces(replayed),
                normalise_traces(expected),
                "seed {seed}: the edit list"
            );
        }
    }
}

/// Go's side of the edit list (`components/bridge/edits.go`), on prost's
/// types with pcommon.Map's semantics. Returns how many layers it read.
fn replay(list: &[u8], td: &mut TracesData) -> usize {
    struct R<'a>(&'a [u8]);
    impl R<'_> {
        fn take(&mut self, n: usize) -> &[u8] {
            let (a, b) = self.0.split_at(n);
            self.0 = b;
            a
        }
        fn u8(&mut self) -> u8 {
            self.take(1)[0]
        }
        fn u32(&mut self) -> usize {
            u32::from_le_bytes(self.take(4).try_into().unwrap()) as usize
        }
        fn u64(&mut self) -> u64 {
            u64::from_le_bytes(self.take(8).try_into().unwrap())
        }
        fn bytes(&mut self) -> Vec<u8> {
            let n = self.u32();
            self.take(n).to_vec()
        }
        fn value(&mut self) -> Option<AnyValue> {
            use super::edits::format::*;
            let v = match self.u8() {
                VALUE_EMPTY => return Some(AnyValue { value: None }),
                VALUE_STR => {
                    any_value::Value::StringValue(String::from_utf8(self.bytes()).unwrap())
                }
                VALUE_BOOL => any_value::Value::BoolValue(self.u8() != 0),
                VALUE_INT => any_value::Value::IntValue(self.u64() as i64),
                VALUE_DOUBLE => any_value::Value::DoubleValue(f64::from_bits(self.u64())),
                VALUE_BYTES => any_value::Value::BytesValue(self.bytes()),
                VALUE_RAW => return Some(AnyValue::decode(self.bytes().as_slice()).unwrap()),
                other => panic!("value tag {other}"),
            };
            Some(AnyValue { value: Some(v) })
        }
    }
    use super::edits::format::*;
    let mut r = R(list);
    let mut layers = 0;
    while !r.0.is_empty() {
        layers += 1;
        for _ in 0..r.u32() {
            let kind = r.u8();
            let (res, scope, item, sub) = (r.u32(), r.u32(), r.u32(), r.u32());
            let rs = &mut td.resource_spans[res];
            let m = match kind {
                1 => &mut rs.resource.get_or_insert_default().attributes,
                2 => {
                    &mut rs.scope_spans[scope]
                        .scope
                        .get_or_insert_default()
                        .attributes
                }
                3 => &mut rs.scope_spans[scope].spans[item].attributes,
                4 => &mut rs.scope_spans[scope].spans[item].events[sub].attributes,
                5 => &mut rs.scope_spans[scope].spans[item].links[sub].attributes,
                other => panic!("target kind {other}"),
            };
            for _ in 0..r.u32() {
                match r.u8() {
                    OP_SET_AT => {
                        let i = r.u32();
                        m[i].value = r.value();
                    }
                    OP_APPEND => {
                        let key = String::from_utf8(r.bytes()).unwrap();
                        let value = r.value();
                        m.push(KeyValue {
                            key,
                            value,
                            ..Default::default()
                        });
                    }
                    OP_REMOVE => {
                        let key = r.bytes();
                        if let Some(i) = m.iter().position(|kv| kv.key.as_bytes() == key) {
                            m.swap_remove(i);
                        }
                    }
                    OP_RETAIN => {
                        let n = r.u32();
                        let mask = r.take(n.div_ceil(8)).to_vec();
                        assert_eq!(n, m.len());
                        let mut i = 0;
                        m.retain(|_| {
                            let keep = mask[i / 8] & (1 << (i % 8)) != 0;
                            i += 1;
                            keep
                        });
                    }
                    OP_SKIP => {
                        let n = r.u32();
                        r.take(n);
                    }
                    other => panic!("op {other}"),
                }
            }
        }
    }
    layers
}

#[test]
fn log_and_metric_edits_match_the_reference() {
    for seed in 1..200u64 {
        let mut rng = Rng(seed * 104_729);
        let ld = logs(&mut rng);
        let mut expected = ld.clone();
        let mut data = OtlpData::from_original(Signal::Logs, Bytes::from(ld.encode_to_vec()));
        reference_logs(&mut expected, seed, Select::ALL);
        edit(&mut data, seed, Select::ALL);
        let got = LogsData::decode(data.to_encoded().unwrap().as_ref()).unwrap();
        let norm = |mut d: LogsData| {
            d.resource_logs.iter_mut().for_each(|r| {
                r.resource.get_or_insert_default();
            });
            d.encode_to_vec()
        };
        assert_eq!(norm(got), norm(expected), "logs seed {seed}");

        let md = metrics(&mut rng);
        let mut expected = md.clone();
        let mut data = OtlpData::from_original(Signal::Metrics, Bytes::from(md.encode_to_vec()));
        reference_metrics(&mut expected, seed, Select::ALL);
        edit(&mut data, seed, Select::ALL);
        let got = MetricsData::decode(data.to_encoded().unwrap().as_ref()).unwrap();
        assert_eq!(
            got.encode_to_vec(),
            expected.encode_to_vec(),
            "metrics seed {seed}"
        );
    }
}

#[test]
fn reading_or_changing_nothing_keeps_the_original() {
    let mut rng = Rng(42);
    let bytes = Bytes::from(traces(&mut rng).encode_to_vec());
    let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
    let mut maps = 0;
    data.edit_attributes(Select::ALL, |_, a| {
        maps += 1;
        let _ = a.find(b"a");
        a.remove(b"no such key");
        a.retain(|_, _| true);
    })
    .unwrap();
    assert!(maps > 0);
    assert!(data.is_original());
    assert!(matches!(data.outgoing(true).unwrap(), Outgoing::Original));
    assert_eq!(
        data.to_encoded().unwrap().as_ptr(),
        bytes.as_ptr(),
        "no copy"
    );
}

/// Random traces with at least one span.
fn traces_with_spans(seed: u64) -> TracesData {
    let mut rng = Rng(seed);
    loop {
        let td = traces(&mut rng);
        if td
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .any(|s| !s.spans.is_empty())
        {
            return td;
        }
    }
}

#[test]
fn outgoing_forms() {
    let td = traces_with_spans(7);
    let mut data = OtlpData::from_original(Signal::Traces, Bytes::from(td.encode_to_vec()));
    data.edit_attributes(Select::RECORDS, |_, a| a.put(b"k", ValueRef::Int(1)))
        .unwrap();
    match data.outgoing(true).unwrap() {
        Outgoing::Edits(list) => {
            let n = u32::from_le_bytes(list[..4].try_into().unwrap()) as usize;
            let spans: usize = td
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            assert_eq!(n, spans);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        data.outgoing(false).unwrap(),
        Outgoing::Encoded(_)
    ));
    data.traces_mut().unwrap();
    assert!(matches!(data.outgoing(true).unwrap(), Outgoing::Encoded(_)));
}

#[test]
fn strings_that_are_not_utf8_and_deep_nesting_are_carried() {
    // A span whose attribute key and value are not UTF-8, and a value
    // nested far deeper than prost would decode.
    let mut deep = Vec::new();
    super::wire::put_varint_field(&mut deep, 3, 1);
    for _ in 0..5000 {
        let mut array = Vec::new();
        super::wire::put_len_field(&mut array, 1, &deep);
        let mut any = Vec::new();
        super::wire::put_len_field(&mut any, 5, &array);
        deep = any;
    }
    let mut kv_bad = Vec::new();
    super::wire::put_len_field(&mut kv_bad, 1, &[0xff, b'k']);
    let mut v = Vec::new();
    super::wire::put_len_field(&mut v, 1, &[0xc3, 0x28]);
    super::wire::put_len_field(&mut kv_bad, 2, &v);
    let mut kv_deep = Vec::new();
    super::wire::put_len_field(&mut kv_deep, 1, b"deep");
    super::wire::put_len_field(&mut kv_deep, 2, &deep);
    let mut span = Vec::new();
    super::wire::put_len_field(&mut span, 9, &kv_bad);
    super::wire::put_len_field(&mut span, 9, &kv_deep);
    let mut ss = Vec::new();
    super::wire::put_len_field(&mut ss, 2, &span);
    let mut rs = Vec::new();
    super::wire::put_len_field(&mut rs, 2, &ss);
    let mut td = Vec::new();
    super::wire::put_len_field(&mut td, 1, &rs);

    let mut data = OtlpData::from_original(Signal::Traces, Bytes::from(td.clone()));
    data.edit_attributes(Select::RECORDS, |_, a| {
        assert_eq!(a.key(0), &[0xff, b'k']);
        assert_eq!(a.value(0), ValueRef::Str(&[0xc3, 0x28]));
        let copied = a.value(1).to_owned();
        a.put(b"copy", copied.as_ref());
        a.set(0, ValueRef::Str(&[0xfe]));
    })
    .unwrap();
    assert_eq!(data.item_count().unwrap(), 1);
    let out = data.to_encoded().unwrap().into_owned();
    let mut again = OtlpData::from_encoded(Signal::Traces, Bytes::from(out));
    again
        .visit_attributes(Select::RECORDS, |_, a| {
            assert_eq!(a.value(0), ValueRef::Str(&[0xfe]));
            assert_eq!(a.key(2), b"copy");
            assert_eq!(a.value(2), a.value(1));
        })
        .unwrap();
}

#[test]
fn attributes_only_batches_edit_but_never_leave_encoded() {
    let td = traces_with_spans(11);
    let bytes = Bytes::from(td.encode_to_vec());
    let mut data = OtlpData::from_attributes_of_original(Signal::Traces, bytes);
    assert!(data.is_attributes_only());
    assert!(matches!(data.outgoing(true).unwrap(), Outgoing::Original));
    data.edit_attributes(Select::RECORDS, |_, a| a.put(b"k", ValueRef::Int(1)))
        .unwrap();
    assert!(matches!(data.outgoing(true).unwrap(), Outgoing::Edits(_)));
    let err = data.outgoing(false).unwrap_err();
    assert!(err.to_string().contains("attribute maps"), "{err}");
    assert!(data.to_encoded().is_err());
    assert!(data.traces_mut().is_err());
    assert!(data.clone().into_encoded().is_err());
}

#[test]
fn log_bodies_are_read_replaced_and_spliced() {
    let record = |body: Option<any_value::Value>| LogRecord {
        body: body.map(|v| AnyValue { value: Some(v) }),
        attributes: vec![KeyValue {
            key: "a".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(1)),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let logs = LogsData {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(Some(any_value::Value::StringValue("one".into()))),
                    record(None),
                    record(Some(any_value::Value::IntValue(3))),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let bytes = Bytes::from(logs.encode_to_vec());

    // Attribute passes do not see bodies.
    let mut data = OtlpData::from_original(Signal::Logs, bytes.clone());
    let mut kinds = Vec::new();
    data.visit_attributes(Select::ALL, |t, _| kinds.push(t.kind))
        .unwrap();
    assert!(!kinds.contains(&TargetKind::LogBody), "{kinds:?}");

    let mut seen = Vec::new();
    data.edit_log_bodies(|t, body| {
        assert_eq!(t.kind, TargetKind::LogBody);
        seen.push((t.item, body.get().to_owned()));
        match t.item {
            0 => body.set(ValueRef::Str(b"ONE")),
            // Setting the same value records nothing.
            2 => body.set(ValueRef::Int(3)),
            _ => {}
        }
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            (0, Value::str("one")),
            (1, Value::Empty),
            (2, Value::Int(3)),
        ]
    );
    assert!(data.has_edits());
    let Outgoing::Edits(list) = data.outgoing(true).unwrap() else {
        panic!("edits expected")
    };
    // One layer, one map: the first record's body, one OP_SET_AT 0.
    let mut expected = Vec::new();
    put_u32(&mut expected, 1);
    Target {
        kind: TargetKind::LogBody,
        resource: 0,
        scope: 0,
        item: 0,
        sub: 0,
    }
    .write(&mut expected);
    put_u32(&mut expected, 1);
    expected.push(edit_format::OP_SET_AT);
    put_u32(&mut expected, 0);
    expected.push(edit_format::VALUE_STR);
    put_u32(&mut expected, 3);
    expected.extend_from_slice(b"ONE");
    assert_eq!(&*list, &expected[..]);

    let mut want = logs.clone();
    want.resource_logs[0].scope_logs[0].log_records[0].body = Some(AnyValue {
        value: Some(any_value::Value::StringValue("ONE".into())),
    });
    let spliced = LogsData::decode(data.to_encoded().unwrap().as_ref()).unwrap();
    assert_eq!(spliced, want);

    // Bodies of an attributes-only projection are not there to edit.
    let mut projected = OtlpData::from_attributes_of_original(Signal::Logs, bytes.clone());
    assert!(projected.edit_log_bodies(|_, _| {}).is_err());
    let mut with_bodies =
        OtlpData::from_attributes_and_record_fields_of_original(Signal::Logs, bytes);
    let mut n = 0;
    with_bodies.edit_log_bodies(|_, _| n += 1).unwrap();
    assert_eq!(n, 3);
}

#[test]
fn span_names_and_kinds_are_read_renamed_and_spliced() {
    let span = |name: &str, kind: span::SpanKind| Span {
        name: name.into(),
        kind: kind as i32,
        events: vec![span::Event {
            name: "e".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let traces = TracesData {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span("/users/123", span::SpanKind::Server),
                    span("", span::SpanKind::Unspecified),
                    span("GET /x", span::SpanKind::Client),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let bytes = Bytes::from(traces.encode_to_vec());
    let mut data = OtlpData::from_original(Signal::Traces, bytes.clone());
    let mut seen = Vec::new();
    data.edit_span_names(|t, name| {
        assert_eq!(t.kind, TargetKind::SpanName);
        seen.push((t.item, name.get().to_vec(), name.kind()));
        if t.item == 0 {
            name.set(b"/users/*");
        }
        if t.item == 2 {
            name.set(b"GET /x");
        }
    })
    .unwrap();
    assert_eq!(
        seen,
        vec![
            (0, b"/users/123".to_vec(), 2),
            (1, vec![], 0),
            (2, b"GET /x".to_vec(), 3),
        ]
    );
    let mut want = traces.clone();
    want.resource_spans[0].scope_spans[0].spans[0].name = "/users/*".into();
    let spliced = TracesData::decode(data.to_encoded().unwrap().as_ref()).unwrap();
    assert_eq!(spliced, want);
    let Outgoing::Edits(list) = data.outgoing(true).unwrap() else {
        panic!("edits expected")
    };
    let mut expected = Vec::new();
    put_u32(&mut expected, 1);
    target(TargetKind::SpanName, 0, 0, 0, 0).write(&mut expected);
    put_u32(&mut expected, 1);
    expected.push(edit_format::OP_SET_AT);
    put_u32(&mut expected, 0);
    expected.push(edit_format::VALUE_STR);
    put_u32(&mut expected, 8);
    expected.extend_from_slice(b"/users/*");
    assert_eq!(&*list, &expected[..]);

    // Attribute passes see neither names nor bodies; an attributes-only
    // projection has no names to edit.
    let mut kinds = Vec::new();
    data.visit_attributes(Select::ALL, |t, _| kinds.push(t.kind))
        .unwrap();
    assert!(!kinds.contains(&TargetKind::SpanName), "{kinds:?}");
    let mut projected = OtlpData::from_attributes_of_original(Signal::Traces, bytes);
    assert!(projected.edit_span_names(|_, _| {}).is_err());
}
