#include "psc/server/status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "psc/domain/strings.h"
#include "psc/domain/violations.h"

namespace psc::server {
namespace {

// `text` cut to at most `max` bytes at a UTF-8 character boundary, "..."
// marking the cut.
std::string Bounded(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return StrCat(text.substr(0, cut), "...");
}

// A BadRequest cut to the violations that fit `budget` serialized bytes,
// the rest counted in a last "N more" entry.
std::string BoundedBadRequest(const std::string& bytes, size_t budget) {
  google::rpc::BadRequest bad;
  if (!bad.ParseFromString(bytes)) return "";
  google::rpc::BadRequest kept;
  int dropped = 0;
  for (const auto& v : bad.field_violations()) {
    if (dropped == 0 && kept.ByteSizeLong() + v.ByteSizeLong() + 64 <= budget) {
      *kept.add_field_violations() = v;
    } else {
      ++dropped;
    }
  }
  if (dropped > 0) {
    auto* more = kept.add_field_violations();
    more->set_reason("MORE_VIOLATIONS");
    more->set_description(StrCat(dropped, " more violations not listed"));
  }
  return kept.SerializeAsString();
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message =
      Bounded(std::string_view(status.message().data(), status.message().size()),
              kMaxStatusMessageBytes);
  google::rpc::Status rich;
  size_t left = kMaxStatusDetailsBytes;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    std::string value(payload);
    if (value.size() + type_url.size() > left && type_url == kBadRequestTypeUrl) {
      value = BoundedBadRequest(value, left > type_url.size() ? left - type_url.size() : 0);
    }
    if (value.empty() || value.size() + type_url.size() > left) return;  // too large to send
    left -= value.size() + type_url.size();
    auto* any = rich.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::move(value));
  });
  if (rich.details_size() == 0) return grpc::Status(code, message);
  rich.set_code(static_cast<int32_t>(code));
  rich.set_message(message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace psc::server
