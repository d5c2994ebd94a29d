//go:build tools

// The protobuf code generators, pinned by this module's go.mod; the
// Makefile builds them into .tools/bin.
package main

import (
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
