// absl::Status -> grpc::Status. The codes share one numbering; payloads
// (a google.rpc.BadRequest, say) travel as google.rpc.Status details in the
// standard `grpc-status-details-bin` trailer, where any gRPC client's
// rich-error support finds them.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace psc::server {

// Bounds of what one error sends, so that its trailers (the message, and the
// details base64-encoded) stay well inside gRPC's 8 KiB metadata limit
// however large the request that caused it: a longer message is cut (with
// "..."), a google.rpc.BadRequest keeps the violations that fit and counts
// the rest.
inline constexpr size_t kMaxStatusMessageBytes = 1024;
inline constexpr size_t kMaxStatusDetailsBytes = 3072;

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace psc::server
