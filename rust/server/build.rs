//! Generates the gRPC service of `proto/otelcolrust/v1/processors.proto`.
//!
//! The .proto is compiled by protox (pure Rust), so building needs no
//! `protoc`; tonic-prost-build writes the prost messages and the tonic
//! server from the descriptors.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../../proto/otelcolrust/v1/processors.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../../proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .compile_fds(descriptors)?;
    Ok(())
}
