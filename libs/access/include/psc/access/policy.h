// Who may call the service: the access policy (proto psc.v1.AccessPolicy,
// a JSON file) parsed into principals that can be looked up by the
// certificate or token a caller presents, and the file kept current as it
// is edited.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/v1/access.pb.h"

namespace psc::access {

struct Principal {
  std::string name;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string collaborative_id;        // ROLE_COLLABORATIVE
  std::vector<std::string> ods_codes;  // ROLE_FEED, sorted
  double requests_per_second = 0;      // 0: unlimited

  // True when the principal's list names the organisation (ROLE_FEED).
  bool Lists(std::string_view ods_code) const;
};

class Policy {
 public:
  // Parses and checks a policy file's JSON. A refusal names the field and
  // the reason: `principals[2].token_sha256: must be 64 lowercase hex
  // digits`.
  static absl::StatusOr<std::shared_ptr<const Policy>> Parse(std::string_view json);
  static absl::StatusOr<std::shared_ptr<const Policy>> Load(const std::string& path);

  // The principal a client certificate's subject common name names, or
  // null.
  const Principal* ByCertificateSubject(std::string_view common_name) const;
  // The principal a bearer token belongs to, or null.
  const Principal* ByToken(std::string_view token) const;
  // True when the certificate (SHA-256 of its DER, lowercase hex) is listed
  // as revoked.
  bool IsRevoked(std::string_view certificate_sha256) const;

  const std::vector<Principal>& principals() const { return principals_; }

 private:
  Policy() = default;
  std::vector<Principal> principals_;
  std::unordered_map<std::string, size_t> by_subject_;
  std::unordered_map<std::string, size_t> by_token_sha256_;
  std::unordered_set<std::string> revoked_;
};

// The policy file, read again when it changes (its size, time or inode),
// looked at no more than once per `check_every`. An edit that does not
// parse leaves the last good policy in force and is reported by
// last_error() (and on stderr once per edit): a typo never locks everyone
// out, nor lets anyone in.
class PolicyFile {
 public:
  static absl::StatusOr<std::unique_ptr<PolicyFile>> Open(
      std::string path, std::chrono::milliseconds check_every = std::chrono::seconds(1));

  std::shared_ptr<const Policy> Current();
  // Why the file's latest edit is not in force (OK when it is).
  absl::Status last_error() const;
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    long long size = -1, mtime_ns = -1, inode = -1;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp StampOf(const std::string& path);

  PolicyFile(std::string path, std::chrono::milliseconds check_every)
      : path_(std::move(path)), check_every_(check_every) {}
  const std::string path_;
  const std::chrono::milliseconds check_every_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;
  Stamp stamp_;
  std::chrono::steady_clock::time_point checked_;
  absl::Status last_error_;
};

}  // namespace psc::access
