// A certificate authority made at test time with openssl, and certificates
// it signs, as PEM files in a folder: for tests of TLS and mutual TLS.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace psc::testing {

class TestPki {
 public:
  // Makes ca.key/ca.pem (EC P-256, valid 2 days) and server.key/server.pem
  // for `localhost` and 127.0.0.1 in `dir`.
  static absl::StatusOr<TestPki> Create(const std::string& dir);

  // A key and a certificate with subject CN `common_name`, as <name>.key
  // and <name>.pem; `extra` goes to `openssl x509 -req`.
  absl::Status Issue(const std::string& name, const std::string& common_name,
                     const std::string& extra = "") const;
  // The same through `openssl ca`, valid from `start` to `end`
  // (YYYYMMDDHHMMSSZ), so that a certificate can be already expired.
  absl::Status IssueFor(const std::string& name, const std::string& common_name,
                        const std::string& start, const std::string& end) const;

  // A file of the folder (ca.pem, <name>.pem, <name>.key), or "".
  std::string Read(const std::string& file) const;
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  absl::Status Run(const std::string& command) const;
  std::string dir_;
};

}  // namespace psc::testing
