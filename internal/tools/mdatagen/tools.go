//go:build tools

// Package mdatagen pins the collector's metadata generator. It lives in a
// module of its own because v0.150.0 is the newest mdatagen the Go module
// proxy can build (later releases need an unpublished internal module), and
// its dependencies must not drag the components' collector modules back.
package mdatagen

import _ "go.opentelemetry.io/collector/cmd/mdatagen"
