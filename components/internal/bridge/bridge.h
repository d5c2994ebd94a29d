// The hand-written part of the otelcol-rust bridge ABI.
// Must match rust/bridge/src/abi.rs; TestABILayout checks it does.
#ifndef OTELCOL_RUST_BRIDGE_H
#define OTELCOL_RUST_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct otelcol_rust_outcome {
  uint8_t state;
  uint8_t error_kind;
  uint8_t buffer_retained;
  uint8_t permanent;
  int32_t grpc_code;
  int32_t http_status;
  uint64_t foreign_error;
  uint64_t retry_after_nanos;
  const char *message_ptr;
  size_t message_len;
  void *details;
} otelcol_rust_outcome;

typedef struct otelcol_rust_emit_reply {
  uint8_t error_kind;
  int32_t grpc_code;
  int32_t http_status;
  uint64_t foreign_error;
  char *message;
  size_t message_len;
} otelcol_rust_emit_reply;

typedef struct otelcol_rust_abi_layout {
  size_t outcome_size;
  size_t outcome_foreign_error;
  size_t outcome_details;
  size_t emit_reply_size;
  size_t emit_reply_message_len;
} otelcol_rust_abi_layout_t;

otelcol_rust_outcome otelcol_rust_process(uint64_t component, uint64_t request_id,
                                          uint8_t signal, int64_t timeout_nanos,
                                          const uint8_t *data, size_t len,
                                          const uint8_t *ctx, size_t ctx_len);
void otelcol_rust_cancel(uint64_t request_id);
void otelcol_rust_details_free(void *details);
otelcol_rust_abi_layout_t otelcol_rust_abi_layout(void);

#endif
