// The access matrix and the scope checks of a caller, without a network
// (the e2e access test walks the same matrix over TLS).
#include "psc/server/guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::server {
namespace {

using ::testing::HasSubstr;

Month M(const char* text) { return *Month::Parse(text); }

access::Principal PrincipalOf(v1::Role role, std::string collaborative = "",
                              std::vector<std::string> ods = {}) {
  access::Principal p;
  p.name = "p";
  p.role = role;
  p.collaborative_id = std::move(collaborative);
  p.ods_codes = std::move(ods);
  return p;
}

TEST(GuardTest, TheDocsPrintTheMatrixTheServersEnforce) {
  std::ifstream in(testing::SourcePath("docs/security.md"));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr(AccessMatrixMarkdown()))
      << "docs/security.md must hold the matrix exactly as it is:\n"
      << AccessMatrixMarkdown();
}

TEST(GuardTest, EveryWriteBelongsToOneRoleAndNothingIsOpenToAll) {
  for (int r = 0; r < kRpcCount; ++r) {
    const Rpc rpc = static_cast<Rpc>(r);
    EXPECT_EQ(GrantOf(v1::ROLE_UNSPECIFIED, rpc), Grant::kNone) << RpcName(rpc);
  }
  // Submitting and publishing never meet in one role.
  for (v1::Role role : {v1::ROLE_FEED, v1::ROLE_COLLABORATIVE, v1::ROLE_NATIONAL, v1::ROLE_OBSERVER}) {
    EXPECT_FALSE(GrantOf(role, Rpc::kSubmitObservations) != Grant::kNone &&
                 GrantOf(role, Rpc::kPublishQuarter) != Grant::kNone);
  }
  EXPECT_EQ(GrantOf(v1::ROLE_OBSERVER, Rpc::kGetQuarterlyReport), Grant::kNone);
  EXPECT_EQ(GrantOf(v1::ROLE_NATIONAL, Rpc::kListAudit), Grant::kAll);
  EXPECT_EQ(GrantOf(v1::ROLE_COLLABORATIVE, Rpc::kListAudit), Grant::kNone);
}

TEST(GuardTest, ACollaborativeActsForItsOrganisationsInTheMonthsTheyAreItsOwn) {
  Catalogue catalogue;
  catalogue.Apply(testing::SmallCatalogue());
  // RHM (registered in wessex) moves to oxford from 2024-05.
  v1::CatalogueChanged moved;
  moved.set_change_id("m1");
  auto* m = moved.add_memberships();
  m->set_ods_code("RHM");
  m->set_collaborative_id("oxford");
  m->set_from_month("2024-05");
  ASSERT_TRUE(catalogue.Check(moved).ok()) << catalogue.Check(moved);
  catalogue.Apply(moved);

  Caller wessex(PrincipalOf(v1::ROLE_COLLABORATIVE, "wessex"), Grant::kScoped);
  EXPECT_TRUE(wessex.MayActFor(catalogue, "RHM", M("2024-04"), "rows[0].ods_code").ok());
  auto may = wessex.MayActFor(catalogue, "RHM", M("2024-05"), "rows[1].ods_code");
  EXPECT_EQ(may.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(may.message(), HasSubstr("rows[1].ods_code: outside the scope of principal 'p'"));
  EXPECT_THAT(may.message(), HasSubstr("not in collaborative 'wessex' in 2024-05"));
  // Without a month: any month it belonged.
  EXPECT_TRUE(wessex.MayActFor(catalogue, "RHM", std::nullopt, "ods_code").ok());
  EXPECT_FALSE(wessex.MayActFor(catalogue, "RTH", std::nullopt, "ods_code").ok());
  EXPECT_FALSE(wessex.MayActFor(catalogue, "NOPE", M("2024-04"), "ods_code").ok());
  EXPECT_TRUE(wessex.MayActForCollaborative("wessex", "collaborative_id").ok());
  EXPECT_THAT(wessex.MayActForCollaborative("", "collaborative_id").message(),
              HasSubstr("set it to 'wessex'"));

  Caller feed(PrincipalOf(v1::ROLE_FEED, "", {"RDZ", "RHM"}), Grant::kScoped);
  EXPECT_TRUE(feed.MayActFor(catalogue, "RHM", M("2024-05"), "f").ok());
  EXPECT_FALSE(feed.MayActFor(catalogue, "RTH", M("2024-05"), "f").ok());
  EXPECT_FALSE(feed.MayActForCollaborative("wessex", "f").ok());
  EXPECT_TRUE(feed.Made("p", "id").ok());
  EXPECT_FALSE(feed.Made("q", "id").ok());

  // The single-user caller and a national grant of kAll touch anything.
  Caller local = Caller::Local();
  EXPECT_EQ(local.name(), "local");
  EXPECT_TRUE(local.MayActFor(catalogue, "RTH", M("2024-05"), "f").ok());
  EXPECT_TRUE(local.Made("q", "id").ok());
}

TEST(GuardTest, WithoutAPolicyEveryCallerIsLocal) {
  Guard guard;
  EXPECT_FALSE(guard.enforcing());
  grpc::ServerContext context;
  for (int r = 0; r < kRpcCount; ++r) {
    auto caller = guard.Admit(context, static_cast<Rpc>(r));
    ASSERT_TRUE(caller.ok());
    EXPECT_EQ(caller->name(), "local");
    EXPECT_TRUE(caller->unrestricted());
  }
}

}  // namespace
}  // namespace psc::server
