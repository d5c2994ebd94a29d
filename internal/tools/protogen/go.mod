module github.com/otelcol-rust/otelcol-rust/internal/tools/protogen

go 1.25.0

require (
	github.com/bufbuild/protocompile v0.14.1
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.5.1
	google.golang.org/protobuf v1.36.12
)

require golang.org/x/sync v0.8.0 // indirect
