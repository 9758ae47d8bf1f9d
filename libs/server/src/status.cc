#include "psc/server/status.h"

#include "google/rpc/status.pb.h"

namespace psc::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  google::rpc::Status rich;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    auto* any = rich.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (rich.details_size() == 0) return grpc::Status(code, message);
  rich.set_code(static_cast<int32_t>(code));
  rich.set_message(message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace psc::server
