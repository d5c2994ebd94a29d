// Package noopprocessor exposes the Rust test processor test_noop as a
// Collector component. It exists only in test builds (build tag
// otelcolrust_testing, linked against the testing staticlib) and is listed
// only in builder-config-testing.yaml, never in the distribution.
package noopprocessor
