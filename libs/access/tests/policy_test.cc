// The access policy file: what it accepts, how it refuses (field and
// reason), the lookups by certificate and token, and reloading.
#include "psc/access/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "psc/domain/sha256.h"
#include "psc/testing/process.h"

namespace psc::access {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kTokenHash = Sha256Hex("portal-secret");

std::string Good() {
  return R"({
    "defaultRequestsPerSecond": 50,
    "principals": [
      {"name": "feed-rx1", "role": "ROLE_FEED", "odsCodes": ["RX2", "RX1"],
       "certificateSubject": "feed-rx1.example.nhs.uk"},
      {"name": "portal-nenc", "role": "ROLE_COLLABORATIVE", "collaborativeId": "NENC",
       "tokenSha256": ")" + kTokenHash + R"(", "requestsPerSecond": 5},
      {"name": "national", "role": "ROLE_NATIONAL", "certificateSubject": "national"},
      {"name": "public", "role": "ROLE_OBSERVER", "certificateSubject": "observer"}
    ],
    "revokedCertificateSha256": [")" + Sha256Hex("old cert") + R"("]
  })";
}

TEST(PolicyTest, ParsesPrincipalsAndLooksThemUp) {
  auto policy = Policy::Parse(Good());
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_EQ((*policy)->principals().size(), 4u);

  const Principal* feed = (*policy)->ByCertificateSubject("feed-rx1.example.nhs.uk");
  ASSERT_NE(feed, nullptr);
  EXPECT_EQ(feed->name, "feed-rx1");
  EXPECT_EQ(feed->role, v1::ROLE_FEED);
  EXPECT_THAT(feed->ods_codes, ElementsAre("RX1", "RX2"));
  EXPECT_TRUE(feed->Lists("RX2"));
  EXPECT_FALSE(feed->Lists("RX3"));
  EXPECT_DOUBLE_EQ(feed->requests_per_second, 50);  // the default

  const Principal* portal = (*policy)->ByToken("portal-secret");
  ASSERT_NE(portal, nullptr);
  EXPECT_EQ(portal->name, "portal-nenc");
  EXPECT_EQ(portal->collaborative_id, "NENC");
  EXPECT_DOUBLE_EQ(portal->requests_per_second, 5);

  EXPECT_EQ((*policy)->ByToken("portal-secreT"), nullptr);
  EXPECT_EQ((*policy)->ByToken(""), nullptr);
  EXPECT_EQ((*policy)->ByToken(kTokenHash), nullptr) << "the hash is not the token";
  EXPECT_EQ((*policy)->ByCertificateSubject("someone-else"), nullptr);
  EXPECT_TRUE((*policy)->IsRevoked(Sha256Hex("old cert")));
  EXPECT_FALSE((*policy)->IsRevoked(Sha256Hex("new cert")));
}

struct Bad {
  std::string json;
  std::string message;  // the field and reason the refusal must name
};

TEST(PolicyTest, RefusalsNameTheFieldAndTheReason) {
  const std::string token = R"(, "tokenSha256": ")" + kTokenHash + R"(")";
  const std::vector<Bad> cases = {
      {"{", "not a psc.v1.AccessPolicy in JSON"},
      {R"({"principal": []})", "not a psc.v1.AccessPolicy in JSON"},
      {R"({"principals": [{"name": "", "role": "ROLE_NATIONAL", "certificateSubject": "x"}]})",
       "principals[0].name: must be 1..128 characters"},
      {R"({"principals": [{"name": "a b", "role": "ROLE_NATIONAL", "certificateSubject": "x"}]})",
       "principals[0].name"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL", "certificateSubject": "x"},
                          {"name": "a", "role": "ROLE_NATIONAL", "certificateSubject": "y"}]})",
       "principals[1].name: 'a' is named twice"},
      {R"({"principals": [{"name": "a", "certificateSubject": "x"}]})",
       "principals[0].role: must be ROLE_FEED"},
      {R"({"principals": [{"name": "a", "role": "ROLE_FEED", "certificateSubject": "x"}]})",
       "principals[0].ods_codes: a feed lists the organisations"},
      {R"({"principals": [{"name": "a", "role": "ROLE_COLLABORATIVE", "certificateSubject": "x"}]})",
       "principals[0].collaborative_id: a collaborative principal names its collaborative"},
      {R"({"principals": [{"name": "a", "role": "ROLE_OBSERVER", "odsCodes": ["RX1"],
                           "certificateSubject": "x"}]})",
       "principals[0].ods_codes: a national or observer principal has no narrower scope"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL"}]})",
       "principals[0]: needs a certificate_subject or a token_sha256"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL", "tokenSha256": "abc"}]})",
       "principals[0].token_sha256: must be 64 lowercase hex digits"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL")" + token + R"(},
                          {"name": "b", "role": "ROLE_NATIONAL")" + token + R"(}]})",
       "principals[1].token_sha256: belongs to an earlier principal"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL", "certificateSubject": "x"},
                          {"name": "b", "role": "ROLE_OBSERVER", "certificateSubject": "x"}]})",
       "principals[1].certificate_subject: 'x' belongs to an earlier principal"},
      {R"({"principals": [{"name": "a", "role": "ROLE_NATIONAL", "certificateSubject": "x",
                           "requestsPerSecond": -1}]})",
       "principals[0].requests_per_second: must be 0"},
      {R"({"revokedCertificateSha256": ["ABC"]})", "revoked_certificate_sha256[0]: must be 64"},
  };
  for (const Bad& bad : cases) {
    auto policy = Policy::Parse(bad.json);
    ASSERT_FALSE(policy.ok()) << bad.json;
    EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(bad.message)) << bad.json;
  }
}

void Write(const std::string& path, const std::string& text) {
  // Written aside and renamed over, as an editor or a config map does.
  std::ofstream(path + ".new") << text;
  std::filesystem::rename(path + ".new", path);
}

TEST(PolicyFileTest, AnEditTakesEffectWithoutARestartAndABadOneKeepsThePolicyBefore) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/policy.json";
  Write(path, Good());
  auto file = PolicyFile::Open(path, std::chrono::milliseconds(0));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_NE((*file)->Current()->ByToken("portal-secret"), nullptr);

  // The portal's token is withdrawn: the next call sees it.
  std::string edited = Good();
  edited.replace(edited.find(kTokenHash), kTokenHash.size(), Sha256Hex("new-secret"));
  Write(path, edited);
  EXPECT_EQ((*file)->Current()->ByToken("portal-secret"), nullptr);
  EXPECT_NE((*file)->Current()->ByToken("new-secret"), nullptr);
  EXPECT_TRUE((*file)->last_error().ok());

  // A broken edit: the policy before it stays in force, and says why.
  Write(path, R"({"principals": [{"name": "x"}]})");
  EXPECT_NE((*file)->Current()->ByToken("new-secret"), nullptr);
  EXPECT_THAT(std::string((*file)->last_error().message()), HasSubstr("principals[0].role"));

  // Fixed again.
  Write(path, Good());
  EXPECT_NE((*file)->Current()->ByToken("portal-secret"), nullptr);
  EXPECT_TRUE((*file)->last_error().ok());
}

TEST(PolicyFileTest, AFileThatDoesNotParseAtStartIsAnError) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/policy.json";
  EXPECT_EQ(PolicyFile::Open(path).status().code(), absl::StatusCode::kNotFound);
  Write(path, "{\"principals\": [{}]}");
  auto file = PolicyFile::Open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()), HasSubstr(path + ": policy: principals[0].name"));
}

TEST(PolicyFileTest, ChecksTheFileAtMostOncePerInterval) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/policy.json";
  Write(path, Good());
  auto file = PolicyFile::Open(path, std::chrono::hours(1));
  ASSERT_TRUE(file.ok());
  std::string edited = Good();
  edited.replace(edited.find(kTokenHash), kTokenHash.size(), Sha256Hex("new-secret"));
  Write(path, edited);
  EXPECT_NE((*file)->Current()->ByToken("portal-secret"), nullptr) << "not looked at yet";
}

}  // namespace
}  // namespace psc::access
