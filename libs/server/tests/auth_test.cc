// Authentication over real TLS on loopback: certificates and tokens made
// at test time with openssl, a policy file, and a server that asks who is
// calling.
#include "psc/server/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "psc/domain/sha256.h"
#include "psc/testing/pki.h"
#include "psc/testing/process.h"
#include "psc/v1/query.grpc.pb.h"

namespace psc::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Answers GetStatus with the caller's principal in a `principal` trailer,
// or the authenticator's refusal.
class WhoAmI final : public v1::QueryService::Service {
 public:
  explicit WhoAmI(const Authenticator& auth) : auth_(auth) {}
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                         v1::ProjectionStatus*) override {
    auto principal = auth_.Authenticate(*context);
    if (!principal.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(principal.status().code()),
                          std::string(principal.status().message()));
    }
    context->AddTrailingMetadata("principal", principal->name);
    return grpc::Status::OK;
  }

 private:
  const Authenticator& auth_;
};

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::TestPki::Create(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = std::make_unique<testing::TestPki>(std::move(*pki));
    ASSERT_TRUE(pki_->Issue("feed", "feed-rx1").ok());
    ASSERT_TRUE(pki_->Issue("stranger", "stranger").ok());
    ASSERT_TRUE(pki_->Issue("revoked", "national").ok());
    ASSERT_TRUE(pki_->IssueFor("expired", "feed-rx1", "20200101000000Z", "20200201000000Z").ok());
    ASSERT_TRUE(pki_->IssueFor("current", "feed-rx1", "20200101000000Z", "20991231000000Z").ok());
    std::ofstream(dir_.path() + "/policy.json")
        << R"({"principals": [
              {"name": "feed-rx1", "role": "ROLE_FEED", "odsCodes": ["RX1"],
               "certificateSubject": "feed-rx1"},
              {"name": "national", "role": "ROLE_NATIONAL", "certificateSubject": "national"},
              {"name": "portal-nenc", "role": "ROLE_COLLABORATIVE", "collaborativeId": "NENC",
               "tokenSha256": ")"
        << Sha256Hex("portal-secret") << R"("}],
            "revokedCertificateSha256": [")"
        << CertificateFingerprint(pki_->Read("revoked.pem")) << R"("]})";
    auto policy = access::PolicyFile::Open(dir_.path() + "/policy.json");
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = std::move(*policy);
    auth_ = std::make_unique<Authenticator>(*policy_);
    service_ = std::make_unique<WhoAmI>(*auth_);

    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = pki_->Read("ca.pem");
    tls.pem_key_cert_pairs.push_back({pki_->Read("server.key"), pki_->Read("server.pem")});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // Calls as the holder of certificate `name` ("" for none), with `token`
  // ("" for none); the principal's name, or the error.
  absl::StatusOr<std::string> Call(const std::string& name, const std::string& token) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = pki_->Read("ca.pem");
    if (!name.empty()) {
      tls.pem_private_key = pki_->Read(name + ".key");
      tls.pem_cert_chain = pki_->Read(name + ".pem");
    }
    auto stub = v1::QueryService::NewStub(grpc::CreateChannel(address_, grpc::SslCredentials(tls)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata(std::string(kAuthorizationKey), "Bearer " + token);
    v1::ProjectionStatus status;
    grpc::Status s = stub->GetStatus(&context, v1::GetStatusRequest(), &status);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    const auto& trailers = context.GetServerTrailingMetadata();
    auto it = trailers.find("principal");
    if (it == trailers.end()) return absl::InternalError("no principal trailer");
    return std::string(it->second.data(), it->second.size());
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<access::PolicyFile> policy_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<WhoAmI> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(AuthTest, AClientCertificateNamesItsPrincipal) {
  auto who = Call("feed", "");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "feed-rx1");
  // The certificate decides even when a token is sent too.
  who = Call("feed", "portal-secret");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "feed-rx1");
}

TEST_F(AuthTest, ABearerTokenNamesItsPrincipal) {
  auto who = Call("", "portal-secret");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, "portal-nenc");
}

TEST_F(AuthTest, UnknownOrMissingCredentialsAreUnauthenticated) {
  auto stranger = Call("stranger", "");
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(stranger.status().message()), HasSubstr("subject 'stranger'"));

  auto none = Call("", "");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no credentials"));

  auto wrong = Call("", "not-the-secret");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("belongs to no principal"));
  EXPECT_THAT(std::string(wrong.status().message()), Not(HasSubstr("not-the-secret")))
      << "a refusal never echoes the token";
}

TEST_F(AuthTest, ARevokedCertificateIsRefusedThoughItsSubjectIsKnown) {
  auto revoked = Call("revoked", "");
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(revoked.status().message()), HasSubstr("revoked"));
}

TEST_F(AuthTest, AnExpiredCertificateFailsTheHandshake) {
  // Made the same way but still valid, it is accepted: the refusal below
  // is the dates.
  auto current = Call("current", "");
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(*current, "feed-rx1");
  auto expired = Call("expired", "");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnavailable) << expired.status();
}

TEST(CertificateFingerprintTest, IsTheSha256OfTheDer) {
  testing::TempDir dir;
  auto created = testing::TestPki::Create(dir.path());
  ASSERT_TRUE(created.ok()) << created.status();
  const testing::TestPki& pki = *created;
  const std::string cmd = "cd '" + dir.path() +
                          "' && openssl x509 -in server.pem -outform DER -out server.der";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(CertificateFingerprint(pki.Read("server.pem")), Sha256Hex(pki.Read("server.der")));
  EXPECT_EQ(CertificateFingerprint("not a certificate"), "");
}

}  // namespace
}  // namespace psc::server
