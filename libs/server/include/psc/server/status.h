// absl::Status -> grpc::Status. The codes share one numbering; payloads
// (a google.rpc.BadRequest, say) travel as google.rpc.Status details in the
// standard `grpc-status-details-bin` trailer, where any gRPC client's
// rich-error support finds them.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace psc::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace psc::server
