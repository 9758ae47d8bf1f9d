#include "psc/domain/violations.h"

#include "absl/strings/cord.h"
#include "psc/domain/strings.h"
#include "google/rpc/error_details.pb.h"

namespace psc {

namespace {

// `text` cut to at most `max` bytes at a UTF-8 character boundary, with
// "..." when cut.
std::string Shortened(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text.append("...");
  return text;
}

}  // namespace

void Violations::Add(std::string field, std::string reason, std::string description) {
  ++total_;
  if (listed_.size() >= max_listed_) return;
  field = Shortened(std::move(field), kMaxFieldBytes);
  description = Shortened(std::move(description), kMaxDescriptionBytes);
  const size_t bytes = field.size() + reason.size() + description.size();
  // The first always; the others while they fit the budget.
  if (!listed_.empty() && listed_bytes_ + bytes > kMaxListedBytes) return;
  listed_bytes_ += bytes;
  listed_.push_back({std::move(field), std::move(reason), std::move(description)});
}

absl::Status Violations::ToStatus(std::string_view summary, absl::StatusCode code) const {
  if (total_ == 0) return absl::OkStatus();
  google::rpc::BadRequest bad;
  for (const FieldViolation& v : listed_) {
    auto* fv = bad.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
    fv->set_reason(v.reason);
  }
  if (total_ > listed_.size()) {
    auto* fv = bad.add_field_violations();
    fv->set_field("");
    fv->set_reason("MORE_VIOLATIONS");
    fv->set_description(StrCat(total_ - listed_.size(), " more violations not listed"));
  }
  std::string message = StrCat(summary, ": ", listed_.front().field, ": ",
                                     listed_.front().description);
  if (total_ > 1) StrAppend(&message, " (and ", total_ - 1, " more)");
  absl::Status status(code, message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

absl::Status InvalidField(std::string field, std::string reason, std::string description) {
  Violations v;
  v.Add(std::move(field), std::move(reason), std::move(description));
  return v.ToStatus("invalid request");
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload) return out;
  google::rpc::BadRequest bad;
  if (!bad.ParseFromString(std::string(*payload))) return out;
  for (const auto& fv : bad.field_violations()) {
    out.push_back({fv.field(), fv.reason(), fv.description()});
  }
  return out;
}

}  // namespace psc
