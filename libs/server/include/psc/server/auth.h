// Who is calling: the principal of a call, from the client certificate it
// presented over mutual TLS or from its bearer token, under the access
// policy in force (access::PolicyFile, reloaded as it is edited).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "psc/access/policy.h"

namespace psc::server {

// Metadata key of a bearer token: `authorization: Bearer <token>`.
inline constexpr std::string_view kAuthorizationKey = "authorization";

class Authenticator {
 public:
  explicit Authenticator(access::PolicyFile& policy) : policy_(policy) {}

  // The caller's principal. A client certificate, when presented, decides:
  // its subject common name must name a principal and it must not be
  // revoked. Without one, the bearer token must belong to a principal.
  // Otherwise UNAUTHENTICATED, saying what was missing or not recognised
  // (never echoing a token).
  absl::StatusOr<access::Principal> Authenticate(const grpc::ServerContext& context) const;

 private:
  access::PolicyFile& policy_;
};

// SHA-256 (lowercase hex) of the DER inside a PEM certificate; empty when
// it is not one.
std::string CertificateFingerprint(std::string_view pem);

}  // namespace psc::server
