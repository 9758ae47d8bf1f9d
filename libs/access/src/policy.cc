#include "psc/access/policy.h"

#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "psc/domain/sha256.h"
#include "psc/domain/strings.h"

namespace psc::access {
namespace {

bool IsName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
  });
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status Refuse(const std::string& field, std::string_view reason) {
  return absl::InvalidArgumentError(StrCat("policy: ", field, ": ", reason));
}

}  // namespace

bool Principal::Lists(std::string_view ods_code) const {
  return std::binary_search(ods_codes.begin(), ods_codes.end(), ods_code, std::less<>());
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Parse(std::string_view json) {
  v1::AccessPolicy proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &proto, options);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        StrCat("policy: not a psc.v1.AccessPolicy in JSON: ", std::string(parsed.message())));
  }
  if (!std::isfinite(proto.default_requests_per_second()) ||
      proto.default_requests_per_second() < 0) {
    return Refuse("default_requests_per_second", "must be 0 (unlimited) or more");
  }
  std::shared_ptr<Policy> policy(new Policy());
  std::unordered_set<std::string> names;
  for (int i = 0; i < proto.principals_size(); ++i) {
    const v1::AccessPrincipal& p = proto.principals(i);
    const std::string at = StrCat("principals[", i, "]");
    if (!IsName(p.name())) {
      return Refuse(at + ".name", "must be 1..128 characters of A-Z a-z 0-9 . _ : @ -");
    }
    if (!names.insert(p.name()).second) {
      return Refuse(at + ".name", StrCat(Quote(p.name()), " is named twice"));
    }
    switch (p.role()) {
      case v1::ROLE_FEED:
        if (p.ods_codes_size() == 0) {
          return Refuse(at + ".ods_codes", "a feed lists the organisations it submits for");
        }
        if (!p.collaborative_id().empty()) {
          return Refuse(at + ".collaborative_id", "only a collaborative principal has one");
        }
        break;
      case v1::ROLE_COLLABORATIVE:
        if (p.collaborative_id().empty()) {
          return Refuse(at + ".collaborative_id", "a collaborative principal names its collaborative");
        }
        if (p.ods_codes_size() != 0) {
          return Refuse(at + ".ods_codes", "only a feed lists organisations");
        }
        break;
      case v1::ROLE_NATIONAL:
      case v1::ROLE_OBSERVER:
        if (!p.collaborative_id().empty() || p.ods_codes_size() != 0) {
          return Refuse(at + (p.ods_codes_size() != 0 ? ".ods_codes" : ".collaborative_id"),
                        "a national or observer principal has no narrower scope");
        }
        break;
      default:
        return Refuse(at + ".role",
                      "must be ROLE_FEED, ROLE_COLLABORATIVE, ROLE_NATIONAL or ROLE_OBSERVER");
    }
    if (p.certificate_subject().empty() && p.token_sha256().empty()) {
      return Refuse(at, "needs a certificate_subject or a token_sha256 to authenticate with");
    }
    if (!p.token_sha256().empty() && !IsSha256Hex(p.token_sha256())) {
      return Refuse(at + ".token_sha256", "must be 64 lowercase hex digits (the token's SHA-256)");
    }
    if (!std::isfinite(p.requests_per_second()) || p.requests_per_second() < 0) {
      return Refuse(at + ".requests_per_second", "must be 0 (the default) or more");
    }
    const size_t index = policy->principals_.size();
    if (!p.certificate_subject().empty() &&
        !policy->by_subject_.emplace(p.certificate_subject(), index).second) {
      return Refuse(at + ".certificate_subject",
                    StrCat(Quote(p.certificate_subject()), " belongs to an earlier principal"));
    }
    if (!p.token_sha256().empty() && !policy->by_token_sha256_.emplace(p.token_sha256(), index).second) {
      return Refuse(at + ".token_sha256", "belongs to an earlier principal");
    }
    Principal principal;
    principal.name = p.name();
    principal.role = p.role();
    principal.collaborative_id = p.collaborative_id();
    principal.ods_codes.assign(p.ods_codes().begin(), p.ods_codes().end());
    std::sort(principal.ods_codes.begin(), principal.ods_codes.end());
    principal.requests_per_second = p.requests_per_second() > 0
                                        ? p.requests_per_second()
                                        : proto.default_requests_per_second();
    policy->principals_.push_back(std::move(principal));
  }
  for (int i = 0; i < proto.revoked_certificate_sha256_size(); ++i) {
    const std::string& fingerprint = proto.revoked_certificate_sha256(i);
    if (!IsSha256Hex(fingerprint)) {
      return Refuse(StrCat("revoked_certificate_sha256[", i, "]"),
                    "must be 64 lowercase hex digits (SHA-256 of the certificate's DER)");
    }
    policy->revoked_.insert(fingerprint);
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("policy: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto policy = Parse(text.str());
  if (!policy.ok()) {
    return absl::Status(policy.status().code(), StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

const Principal* Policy::ByCertificateSubject(std::string_view common_name) const {
  auto it = by_subject_.find(std::string(common_name));
  return it == by_subject_.end() ? nullptr : &principals_[it->second];
}

const Principal* Policy::ByToken(std::string_view token) const {
  if (token.empty()) return nullptr;
  // Looked up by its hash: the policy never holds a token, and the lookup
  // takes the same time for every wrong token.
  auto it = by_token_sha256_.find(Sha256Hex(token));
  return it == by_token_sha256_.end() ? nullptr : &principals_[it->second];
}

bool Policy::IsRevoked(std::string_view certificate_sha256) const {
  return revoked_.count(std::string(certificate_sha256)) > 0;
}

PolicyFile::Stamp PolicyFile::StampOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Stamp{};
  return Stamp{static_cast<long long>(st.st_size),
               static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
               static_cast<long long>(st.st_ino)};
}

absl::StatusOr<std::unique_ptr<PolicyFile>> PolicyFile::Open(std::string path,
                                                             std::chrono::milliseconds check_every) {
  std::unique_ptr<PolicyFile> file(new PolicyFile(std::move(path), check_every));
  file->stamp_ = StampOf(file->path_);
  auto policy = Policy::Load(file->path_);
  if (!policy.ok()) return policy.status();
  file->current_ = std::move(*policy);
  file->checked_ = std::chrono::steady_clock::now();
  return file;
}

std::shared_ptr<const Policy> PolicyFile::Current() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < check_every_) return current_;
  checked_ = now;
  const Stamp stamp = StampOf(path_);
  if (stamp == stamp_) return current_;
  stamp_ = stamp;
  auto policy = Policy::Load(path_);
  if (policy.ok()) {
    current_ = std::move(*policy);
    last_error_ = absl::OkStatus();
    std::cerr << "policy: " << path_ << " reloaded, " << current_->principals().size()
              << " principals" << std::endl;
  } else {
    last_error_ = policy.status();
    std::cerr << "policy: the edit is not in force, the policy before it is: "
              << policy.status().message() << std::endl;
  }
  return current_;
}

absl::Status PolicyFile::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace psc::access
