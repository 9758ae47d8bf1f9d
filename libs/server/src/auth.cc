#include "psc/server/auth.h"

#include "absl/strings/escaping.h"
#include "psc/domain/sha256.h"
#include "psc/domain/strings.h"

namespace psc::server {
namespace {

// The first value of an auth context property, or empty.
std::string Property(const grpc::AuthContext& auth, const char* name) {
  const auto values = auth.FindPropertyValues(name);
  if (values.empty()) return {};
  return std::string(values.front().data(), values.front().size());
}

}  // namespace

std::string CertificateFingerprint(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const size_t begin = pem.find(kBegin);
  const size_t end = pem.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) return {};
  std::string base64;
  for (char c : pem.substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ') base64.push_back(c);
  }
  std::string der;
  if (!absl::Base64Unescape(base64, &der) || der.empty()) return {};
  return Sha256Hex(der);
}

absl::StatusOr<access::Principal> Authenticator::Authenticate(
    const grpc::ServerContext& context) const {
  const std::shared_ptr<const access::Policy> policy = policy_.Current();
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr) {
    const std::string pem = Property(*auth, GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (!pem.empty()) {
      if (policy->IsRevoked(CertificateFingerprint(pem))) {
        return absl::UnauthenticatedError("the client certificate has been revoked");
      }
      const std::string subject = Property(*auth, GRPC_X509_CN_PROPERTY_NAME);
      if (const access::Principal* p = policy->ByCertificateSubject(subject)) return *p;
      return absl::UnauthenticatedError(
          StrCat("no principal has the client certificate subject ", Quote(subject)));
    }
  }
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find(grpc::string_ref(kAuthorizationKey.data(), kAuthorizationKey.size()));
  if (header == metadata.end()) {
    return absl::UnauthenticatedError(
        "no credentials: present a client certificate or an 'authorization: Bearer <token>' header");
  }
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view value(header->second.data(), header->second.size());
  if (value.substr(0, kBearer.size()) != kBearer) {
    return absl::UnauthenticatedError("the authorization header must be 'Bearer <token>'");
  }
  if (const access::Principal* p = policy->ByToken(value.substr(kBearer.size()))) return *p;
  return absl::UnauthenticatedError("the bearer token belongs to no principal");
}

}  // namespace psc::server
