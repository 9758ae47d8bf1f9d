// Who may do what, end to end: pscd under an access policy, over TLS on
// loopback, with certificates and tokens made at test time. The matrix test
// calls every RPC as every role, inside and outside the role's scope, and
// holds each answer to server::GrantOf.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>

#include "harness.h"
#include "psc/domain/sha256.h"
#include "psc/domain/strings.h"
#include "psc/server/auth.h"
#include "psc/server/guard.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/pki.h"

namespace psc::e2e {
namespace {

using ::psc::server::Grant;
using ::psc::server::Rpc;
using ::psc::testing::Key;
using ::psc::testing::LearningOf;
using ::psc::testing::Obs;
using ::testing::HasSubstr;
using ::testing::Not;

// The callers: one principal per role, and nobody.
//   feed-rhm       feed for RHM (wessex), client certificate
//   portal-wessex  collaborative wessex, bearer token
//   portal-oxford  collaborative oxford, bearer token (makes the oxford data)
//   national       national, client certificate
//   observer       observer, bearer token
//   slow-feed      feed for RDZ at 0.2 requests per second, token
struct Who {
  std::string name;
  v1::Role role;
  std::string certificate;  // file stem, or ""
  std::string token;        // or ""
};
const Who kFeed{"feed-rhm", v1::ROLE_FEED, "feed-rhm", ""};
const Who kWessex{"portal-wessex", v1::ROLE_COLLABORATIVE, "", "wessex-secret-3f9a"};
const Who kOxford{"portal-oxford", v1::ROLE_COLLABORATIVE, "", "oxford-secret-77c1"};
const Who kNational{"national", v1::ROLE_NATIONAL, "national", ""};
const Who kObserver{"observer", v1::ROLE_OBSERVER, "", "observer-secret-0b2e"};
const Who kSlow{"slow-feed", v1::ROLE_FEED, "", "slow-secret-5d11"};
const Who kNobody{"", v1::ROLE_UNSPECIFIED, "", ""};

// Stubs over TLS as one caller.
struct Client {
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::unique_ptr<v1::CatalogService::Stub> catalog;
  std::unique_ptr<v1::QueryService::Stub> query;
  std::unique_ptr<v1::PublicationService::Stub> publication;
};

class AccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto pki = testing::TestPki::Create(dir_->path());
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new testing::TestPki(std::move(*pki));
    ASSERT_TRUE(pki_->Issue("feed-rhm", "feed-rhm").ok());
    ASSERT_TRUE(pki_->Issue("national", "national").ok());
    ASSERT_TRUE(pki_->Issue("revoked", "national").ok());
    WritePolicy({});
    server_ = new Server();
    auto server = StartServer(
        "pscd", {"--data-dir", dir_->Sub("data"), "--policy", dir_->Sub("policy.json"),
                 "--tls-cert", pki_->Path("server.pem"), "--tls-key", pki_->Path("server.key"),
                 "--tls-client-ca", pki_->Path("ca.pem"), "--max-rows-per-request", "5"},
        /*wait_ready=*/true, /*capture_stderr=*/true);
    ASSERT_TRUE(server.ok()) << server.status();
    *server_ = std::move(*server);
    LoadData();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete pki_;
    delete dir_;
  }

  // The policy file: every principal above, `revoked` certificates refused.
  static void WritePolicy(const std::vector<std::string>& revoked) {
    std::string json = R"({"principals": [
      {"name": "feed-rhm", "role": "ROLE_FEED", "odsCodes": ["RHM"], "certificateSubject": "feed-rhm"},
      {"name": "national", "role": "ROLE_NATIONAL", "certificateSubject": "national"},
      {"name": "portal-wessex", "role": "ROLE_COLLABORATIVE", "collaborativeId": "wessex", "tokenSha256": ")" +
                       Sha256Hex(kWessex.token) + R"("},
      {"name": "portal-oxford", "role": "ROLE_COLLABORATIVE", "collaborativeId": "oxford", "tokenSha256": ")" +
                       Sha256Hex(kOxford.token) + R"("},
      {"name": "observer", "role": "ROLE_OBSERVER", "tokenSha256": ")" + Sha256Hex(kObserver.token) + R"("},
      {"name": "slow-feed", "role": "ROLE_FEED", "odsCodes": ["RDZ"], "requestsPerSecond": 0.2,
       "tokenSha256": ")" + Sha256Hex(kSlow.token) + R"("}],
      "revokedCertificateSha256": [)";
    for (size_t i = 0; i < revoked.size(); ++i) {
      StrAppend(&json, i == 0 ? "" : ", ", "\"", revoked[i], "\"");
    }
    StrAppend(&json, "]}");
    // Written aside and renamed, as an operator's edit would be: the server
    // never reads half a file.
    std::ofstream(dir_->Sub("policy.json.new")) << json;
    ASSERT_EQ(std::rename(dir_->Sub("policy.json.new").c_str(), dir_->Sub("policy.json").c_str()), 0);
  }

  static Client ClientAs(const Who& who, const std::string& certificate = "") {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = pki_->Read("ca.pem");
    const std::string cert = certificate.empty() ? who.certificate : certificate;
    if (!cert.empty()) {
      tls.pem_private_key = pki_->Read(cert + ".key");
      tls.pem_cert_chain = pki_->Read(cert + ".pem");
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(tls);
    if (!who.token.empty()) {
      credentials = grpc::CompositeChannelCredentials(credentials,
                                                      grpc::AccessTokenCredentials(who.token));
    }
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(32 << 20);
    // A fresh connection per client, so that each presents its own
    // certificate.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(server_->address, credentials, args);
    return Client{v1::IngestService::NewStub(channel), v1::CatalogService::NewStub(channel),
                  v1::QueryService::NewStub(channel), v1::PublicationService::NewStub(channel)};
  }

  // The catalogue (as national), a quarter of returns for all four
  // organisations (each by a principal allowed to), and 2024/25 Q1
  // published for the public, Q2 for the programme only.
  static void LoadData() {
    Client national = ClientAs(kNational);
    v1::ChangeCatalogueRequest change;
    *change.mutable_change() = testing::SmallCatalogue("setup-catalogue");
    v1::Receipt receipt;
    auto s = national.catalog->ChangeCatalogue(Ctx().get(), change, &receipt);
    ASSERT_TRUE(s.ok()) << s.error_message();
    auto submit = [&](const Who& who, const std::string& id, std::vector<std::string> orgs) {
      std::vector<v1::Observation> rows;
      for (const auto& ods : orgs) {
        for (const char* month : {"2024-04", "2024-05", "2024-06", "2024-07"}) {
          rows.push_back(Obs(ods, "falls-harm-rate.v1", month, 3, 1000));
        }
      }
      // Split to stay inside the 5-row bound.
      for (size_t i = 0, part = 0; i < rows.size(); i += 4, ++part) {
        auto request = Submission(StrCat(id, "-", part),
                                  std::vector<v1::Observation>(rows.begin() + i, rows.begin() + i + 4));
        auto status = ClientAs(who).ingest->SubmitObservations(Ctx().get(), request, &receipt);
        ASSERT_TRUE(status.ok()) << who.name << ": " << status.error_message();
        last_position_ = receipt.position();
      }
    };
    submit(kFeed, "setup-feed", {"RHM"});
    submit(kWessex, "setup-wessex", {"RDZ"});
    submit(kOxford, "setup-oxford", {"RTH", "R1A"});
    for (auto [id, quarter, open] : {std::tuple{"pub-q1", "2024/25 Q1", true},
                                     std::tuple{"pub-q2", "2024/25 Q2", false}}) {
      v1::PublishQuarterRequest publish;
      publish.set_publication_id(id);
      publish.set_quarter(quarter);
      publish.set_public_(open);
      publish.set_min_position(last_position_);
      auto status = national.publication->PublishQuarter(Ctx().get(), publish, &receipt);
      ASSERT_TRUE(status.ok()) << status.error_message();
      last_position_ = receipt.position();
    }
    for (const Who* who : {&kWessex, &kOxford}) {
      const std::string collaborative = who == &kWessex ? "wessex" : "oxford";
      v1::ShareLearningRequest share;
      *share.mutable_learning() =
          LearningOf("setup-learn-" + collaborative, collaborative, "falls", "2024-05");
      auto status = ClientAs(*who).ingest->ShareLearning(Ctx().get(), share, &receipt);
      ASSERT_TRUE(status.ok()) << status.error_message();
      last_position_ = receipt.position();
    }
  }

  // One call of `rpc` as `who`: `in` touches wessex and RHM (inside the
  // scope of feed-rhm and portal-wessex), otherwise oxford and RTH. Write
  // ids are unique per call.
  static grpc::Status Call(Rpc rpc, const Who& who, bool in) {
    Client c = ClientAs(who);
    const std::string ods = in ? "RHM" : "RTH";
    const std::string collaborative = in ? "wessex" : "oxford";
    const std::string_view method = server::RpcName(rpc).substr(server::RpcName(rpc).find('/') + 1);
    const std::string id = StrCat("m-", method, "-",
                                  who.name.empty() ? "nobody" : who.name, in ? "-in" : "-out");
    auto ctx = Ctx();
    v1::Receipt receipt;
    switch (rpc) {
      case Rpc::kSubmitObservations: {
        auto request = Submission(id, {Obs(ods, "falls-harm-rate.v1", "2024-08", 2, 900)});
        return c.ingest->SubmitObservations(ctx.get(), request, &receipt);
      }
      case Rpc::kWithdrawObservations: {
        v1::WithdrawObservationsRequest request;
        request.set_withdrawal_id(id);
        *request.add_keys() = Key(ods, "falls-harm-rate.v1", "2024-09");
        request.set_reason("entered in error");
        return c.ingest->WithdrawObservations(ctx.get(), request, &receipt);
      }
      case Rpc::kShareLearning: {
        v1::ShareLearningRequest request;
        *request.mutable_learning() = LearningOf(id, collaborative, "falls", "2024-05");
        return c.ingest->ShareLearning(ctx.get(), request, &receipt);
      }
      case Rpc::kEraseLearning: {
        v1::EraseLearningRequest request;
        request.set_erasure_id(id);
        request.set_learning_id("setup-learn-" + collaborative);
        request.set_reason("request 2024-117");
        return c.ingest->EraseLearning(ctx.get(), request, &receipt);
      }
      case Rpc::kSignOffQuarter: {
        v1::SignOffQuarterRequest request;
        request.set_sign_off_id(id);
        request.set_quarter("2024/25 Q1");
        request.set_collaborative_id(collaborative);
        return c.publication->SignOffQuarter(ctx.get(), request, &receipt);
      }
      case Rpc::kGetCatalogue: {
        v1::Catalogue catalogue;
        return c.catalog->GetCatalogue(ctx.get(), v1::GetCatalogueRequest(), &catalogue);
      }
      case Rpc::kGetStatus: {
        v1::ProjectionStatus status;
        return c.query->GetStatus(ctx.get(), v1::GetStatusRequest(), &status);
      }
      case Rpc::kGetReceipt: {
        // Inside: a request the caller made itself (national: the
        // catalogue); outside: one of portal-oxford's.
        v1::GetReceiptRequest request;
        const std::map<std::string, std::string> own = {{"feed-rhm", "setup-feed-0"},
                                                        {"portal-wessex", "setup-wessex-0"},
                                                        {"national", "setup-catalogue"}};
        auto it = own.find(who.name);
        request.set_id(in && it != own.end() ? it->second : "setup-oxford-0");
        return c.query->GetReceipt(ctx.get(), request, &receipt);
      }
      case Rpc::kGetSeries:
      case Rpc::kGetSpcChart: {
        v1::GetSeriesRequest request;
        request.set_measure_id("falls-harm-rate.v1");
        request.set_collaborative_id(collaborative);
        if (rpc == Rpc::kGetSeries) {
          v1::Series series;
          return c.query->GetSeries(ctx.get(), request, &series);
        }
        v1::SpcChart chart;
        return c.query->GetSpcChart(ctx.get(), request, &chart);
      }
      case Rpc::kGetValueHistory: {
        v1::GetValueHistoryRequest request;
        *request.mutable_key() = Key(ods, "falls-harm-rate.v1", "2024-04");
        v1::ValueHistory history;
        return c.query->GetValueHistory(ctx.get(), request, &history);
      }
      case Rpc::kListOutstandingReturns: {
        v1::ListOutstandingReturnsRequest request;
        request.set_month("2024-04");
        request.set_collaborative_id(collaborative);
        v1::OutstandingReturns out;
        return c.query->ListOutstandingReturns(ctx.get(), request, &out);
      }
      case Rpc::kGetFunnel: {
        v1::GetFunnelRequest request;
        request.set_measure_id("falls-harm-rate.v1");
        request.set_quarter("2024/25 Q1");
        request.set_collaborative_id(collaborative);
        v1::Funnel funnel;
        return c.query->GetFunnel(ctx.get(), request, &funnel);
      }
      case Rpc::kGetPublication: {
        // Inside an observer's scope: the public Q1; outside: Q2.
        v1::GetPublicationRequest request;
        request.set_quarter(in ? "2024/25 Q1" : "2024/25 Q2");
        v1::Publication publication;
        return c.publication->GetPublication(ctx.get(), request, &publication);
      }
      case Rpc::kGetQuarterlyReport: {
        v1::GetQuarterlyReportRequest request;
        request.set_quarter("2024/25 Q1");
        v1::GetQuarterlyReportResponse report;
        return c.query->GetQuarterlyReport(ctx.get(), request, &report);
      }
      case Rpc::kListAudit: {
        v1::ListAuditRequest request;
        request.set_limit(3);
        v1::AuditTrail trail;
        return c.query->ListAudit(ctx.get(), request, &trail);
      }
      case Rpc::kChangeCatalogue: {
        v1::ChangeCatalogueRequest request;
        *request.mutable_change() = testing::SmallCatalogue(id);
        return c.catalog->ChangeCatalogue(ctx.get(), request, &receipt);
      }
      case Rpc::kChangeSpcLimits: {
        v1::ChangeSpcLimitsRequest request;
        auto* change = request.mutable_change();
        change->set_change_id(id);
        change->set_measure_id("falls-harm-rate.v1");
        change->set_collaborative_id(collaborative);
        change->set_rebase_month("2024-05");
        change->set_reason("new falls pathway");
        return c.catalog->ChangeSpcLimits(ctx.get(), request, &receipt);
      }
      case Rpc::kPublishQuarter: {
        v1::PublishQuarterRequest request;
        request.set_publication_id(id);
        request.set_quarter("2024/25 Q4");
        return c.publication->PublishQuarter(ctx.get(), request, &receipt);
      }
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "no such rpc");
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::TestPki* pki_ = nullptr;
  static inline Server* server_ = nullptr;
  static inline uint64_t last_position_ = 0;
};

TEST_F(AccessTest, EveryRpcAsEveryRoleInsideAndOutsideItsScope) {
  // Wait for the set-up to be readable everywhere.
  v1::ProjectionStatus status;
  auto ctx = Ctx();
  ASSERT_TRUE(ClientAs(kNational).query->GetStatus(ctx.get(), v1::GetStatusRequest(), &status).ok());
  for (int i = 0; i < 100 && status.applied_position() < last_position_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ClientAs(kNational).query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status);
  }
  int checked = 0;
  for (int r = 0; r < server::kRpcCount; ++r) {
    const Rpc rpc = static_cast<Rpc>(r);
    for (const Who* who : {&kFeed, &kWessex, &kNational, &kObserver, &kNobody}) {
      for (bool in : {true, false}) {
        SCOPED_TRACE(StrCat(server::RpcName(rpc), " as ", who->name.empty() ? "nobody" : who->name,
                            in ? ", inside its scope" : ", outside its scope"));
        const grpc::Status s = Call(rpc, *who, in);
        ++checked;
        if (who == &kNobody) {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
          continue;
        }
        const Grant grant = server::GrantOf(who->role, rpc);
        if (grant == Grant::kAll || (grant == Grant::kScoped && in)) {
          EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
        } else {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
          if (grant == Grant::kScoped) {
            // Refused for the row, which it names, not for the RPC.
            EXPECT_THAT(s.error_message(), HasSubstr("outside the scope of principal '" + who->name));
          } else {
            EXPECT_THAT(s.error_message(), HasSubstr("may not call " + std::string(server::RpcName(rpc))));
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, server::kRpcCount * 5 * 2);
  // After all of that, the server has printed (stdout and stderr) no token
  // and no learning text.
  const std::string printed = server_->process->Output();
  for (const Who* who : {&kWessex, &kOxford, &kObserver, &kSlow}) {
    EXPECT_THAT(printed, Not(HasSubstr(who->token)));
  }
  EXPECT_THAT(printed, Not(HasSubstr(LearningOf("x", "wessex", "falls", "2024-05").title())));
}

TEST_F(AccessTest, ARowOutsideTheScopeIsNamedAndNothingIsWritten) {
  v1::Receipt receipt;
  auto request = Submission("mixed", {Obs("RHM", "falls-harm-rate.v1", "2024-10", 1, 100),
                                      Obs("RDZ", "falls-harm-rate.v1", "2024-10", 1, 100),
                                      Obs("RHM", "falls-harm-rate.v1", "2024-11", 1, 100)});
  auto s = ClientAs(kFeed).ingest->SubmitObservations(Ctx().get(), request, &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("rows[1].ods_code"));
  EXPECT_THAT(s.error_message(), HasSubstr("'RDZ'"));
  // The same request by wessex's portal (RDZ is in wessex) goes through,
  // and only then is there a receipt of it: the refused one wrote nothing.
  v1::GetReceiptRequest lookup;
  lookup.set_id("mixed");
  EXPECT_EQ(ClientAs(kNational).query->GetReceipt(Ctx().get(), lookup, &receipt).error_code(),
            grpc::StatusCode::NOT_FOUND);
  s = ClientAs(kWessex).ingest->SubmitObservations(Ctx().get(), request, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(receipt.principal(), "portal-wessex");
  // Another principal reusing that id is refused; the maker is answered
  // the original receipt.
  s = ClientAs(kFeed).ingest->SubmitObservations(
      Ctx().get(), Submission("mixed", {Obs("RHM", "falls-harm-rate.v1", "2024-10", 1, 100)}),
      &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("another principal's"));
}

TEST_F(AccessTest, EventsRecordTheirPrincipalAndTheAuditTrailListsThem) {
  // The value history of RHM's April names the feed that submitted it.
  v1::GetValueHistoryRequest history_request;
  *history_request.mutable_key() = Key("RHM", "falls-harm-rate.v1", "2024-04");
  history_request.set_min_position(last_position_);
  v1::ValueHistory history;
  auto s = ClientAs(kNational).query->GetValueHistory(Ctx().get(), history_request, &history);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(history.changes_size(), 1);
  EXPECT_EQ(history.changes(0).principal(), "feed-rhm");

  // The audit trail from the start: the set-up in log order.
  v1::ListAuditRequest request;
  request.set_limit(4);
  v1::AuditTrail trail;
  s = ClientAs(kNational).query->ListAudit(Ctx().get(), request, &trail);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(trail.entries_size(), 4);
  EXPECT_EQ(trail.entries(0).position(), 1u);
  EXPECT_EQ(trail.entries(0).principal(), "national");
  EXPECT_EQ(trail.entries(0).action(), "catalogue_changed");
  EXPECT_EQ(trail.entries(0).request_id(), "setup-catalogue");
  EXPECT_EQ(trail.entries(1).principal(), "feed-rhm");
  EXPECT_EQ(trail.entries(1).action(), "observations_submitted");
  EXPECT_EQ(trail.entries(1).request_id(), "setup-feed-0");
  EXPECT_EQ(trail.entries(1).rows(), 4u);
  EXPECT_GT(trail.entries(1).recorded_at().seconds(), 1'700'000'000);
  EXPECT_EQ(trail.next_after_position(), 4u);

  // One principal's actions, paged on.
  request.set_principal("portal-oxford");
  request.set_after_position(0);
  request.set_limit(1);
  std::vector<std::string> ids;
  for (int page = 0; page < 10; ++page) {
    trail.Clear();
    s = ClientAs(kNational).query->ListAudit(Ctx().get(), request, &trail);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& e : trail.entries()) ids.push_back(e.request_id());
    if (trail.next_after_position() == 0) break;
    request.set_after_position(trail.next_after_position());
  }
  EXPECT_THAT(ids, ::testing::IsSupersetOf({"setup-oxford-0", "setup-oxford-1"}));
  for (const auto& id : ids) EXPECT_THAT(id, Not(HasSubstr("feed")));

  request.set_limit(1001);
  EXPECT_EQ(ClientAs(kNational).query->ListAudit(Ctx().get(), request, &trail).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AccessTest, AnOrganisationsSeriesIsReadOverTheMonthsItWasInTheCollaborative) {
  // RHM leaves wessex for oxford from 2024-07.
  v1::ChangeCatalogueRequest move;
  move.mutable_change()->set_change_id("move-rhm");
  auto* m = move.mutable_change()->add_memberships();
  m->set_ods_code("RHM");
  m->set_collaborative_id("oxford");
  m->set_from_month("2024-07");
  v1::Receipt receipt;
  auto s = ClientAs(kNational).catalog->ChangeCatalogue(Ctx().get(), move, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetSeriesRequest request;
  request.set_measure_id("falls-harm-rate.v1");
  request.set_ods_code("RHM");
  request.set_min_position(receipt.position());
  v1::Series series;
  // Wessex: April to June only.
  s = ClientAs(kWessex).query->GetSeries(Ctx().get(), request, &series);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("not in collaborative 'wessex' in 2024-07"));
  request.set_to_month("2024-06");
  s = ClientAs(kWessex).query->GetSeries(Ctx().get(), request, &series);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(series.points_size(), 3);
  // Oxford: from July on, chart included.
  request.clear_to_month();
  s = ClientAs(kOxford).query->GetSeries(Ctx().get(), request, &series);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  request.set_from_month("2024-07");
  s = ClientAs(kOxford).query->GetSeries(Ctx().get(), request, &series);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(series.points_size(), 1);
  EXPECT_EQ(series.points(0).month(), "2024-07");
  request.clear_from_month();
  v1::SpcChart chart;
  EXPECT_EQ(ClientAs(kOxford).query->GetSpcChart(Ctx().get(), request, &chart).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // National reads it whole.
  s = ClientAs(kNational).query->GetSeries(Ctx().get(), request, &series);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(series.points_size(), 4);
}

TEST_F(AccessTest, ObserverSeesThePublicRenderingOnly) {
  v1::GetPublicationRequest request;
  request.set_quarter("2024/25 Q1");
  v1::Publication publication;
  auto s = ClientAs(kObserver).publication->GetPublication(Ctx().get(), request, &publication);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(publication.published().publication_id(), "pub-q1");
  ASSERT_EQ(publication.published().renderings_size(), 1);
  EXPECT_EQ(publication.published().renderings(0).content_type(), "text/csv; charset=utf-8");
  EXPECT_TRUE(publication.published().report().empty()) << "the unsuppressed report stays inside";
  EXPECT_EQ(publication.revisions_size(), 0);
  // National gets the structured report it froze.
  s = ClientAs(kNational).publication->GetPublication(Ctx().get(), request, &publication);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(publication.published().report().empty());
}

TEST_F(AccessTest, OverTheBoundsIsResourceExhaustedAndNothingIsWritten) {
  std::vector<v1::Observation> rows;
  for (const char* month : {"2024-04", "2024-05", "2024-06", "2024-07", "2024-08", "2024-09"}) {
    rows.push_back(Obs("RHM", "falls-count.v1", month, 1));
  }
  v1::Receipt receipt;
  auto s = ClientAs(kFeed).ingest->SubmitObservations(Ctx().get(), Submission("six", rows), &receipt);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ViolatedFields(s), ::testing::ElementsAre("rows"));
  EXPECT_THAT(s.error_message(), HasSubstr("at most 5"));
  v1::GetReceiptRequest lookup;
  lookup.set_id("six");
  EXPECT_EQ(ClientAs(kNational).query->GetReceipt(Ctx().get(), lookup, &receipt).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AccessTest, APrincipalOverItsRateIsRefusedUntilItsBucketRefills) {
  // slow-feed may make one request per 5 s. The first goes through; the
  // second, at once, is refused with when to retry, and writes nothing.
  Client slow = ClientAs(kSlow);
  v1::Receipt receipt;
  auto first = slow.ingest->SubmitObservations(
      Ctx().get(), Submission("slow-1", {Obs("RDZ", "falls-count.v1", "2024-04", 1)}), &receipt);
  ASSERT_TRUE(first.ok()) << first.error_message();
  auto second = slow.ingest->SubmitObservations(
      Ctx().get(), Submission("slow-2", {Obs("RDZ", "falls-count.v1", "2024-05", 1)}), &receipt);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(second.error_message(), HasSubstr("principal 'slow-feed' is over its 0.2 requests per second"));
  EXPECT_THAT(second.error_message(), HasSubstr("retry in"));
  v1::GetReceiptRequest lookup;
  lookup.set_id("slow-2");
  EXPECT_EQ(ClientAs(kNational).query->GetReceipt(Ctx().get(), lookup, &receipt).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Others are not held back by it.
  v1::ProjectionStatus status;
  EXPECT_TRUE(ClientAs(kFeed).query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status).ok());
}

TEST_F(AccessTest, RevokingACertificateInThePolicyTakesEffectWithoutARestart) {
  // `revoked` is a valid certificate for subject `national`.
  v1::ProjectionStatus status;
  auto before = ClientAs(kNational, "revoked").query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status);
  ASSERT_TRUE(before.ok()) << before.error_message();
  WritePolicy({server::CertificateFingerprint(pki_->Read("revoked.pem"))});
  grpc::Status after;
  for (int i = 0; i < 100; ++i) {  // the file is looked at once a second
    after = ClientAs(kNational, "revoked").query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status);
    if (!after.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(after.error_message(), HasSubstr("revoked"));
  // The national certificate that is not revoked still works.
  EXPECT_TRUE(ClientAs(kNational).query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status).ok());
  WritePolicy({});
}

TEST_F(AccessTest, PlaintextIsRefusedByATlsServer) {
  auto channel = grpc::CreateChannel(server_->address, grpc::InsecureChannelCredentials());
  v1::ProjectionStatus status;
  auto s = v1::QueryService::NewStub(channel)->GetStatus(Ctx(5).get(), v1::GetStatusRequest(), &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(AccessTest, TheCommandLineClientAuthenticatesWithACertificateOrAToken) {
  const std::string psc = testing::BinPath("psc") + " --server " + server_->address;
  const std::string tls = " --tls-ca " + pki_->Path("ca.pem");
  // National, by its certificate: the audit trail.
  auto audit = RunCommand(psc.substr(0, psc.find(" --server")) + " audit --server " +
                          server_->address + tls + " --tls-cert " + pki_->Path("national.pem") +
                          " --tls-key " + pki_->Path("national.key") + " --limit 2 2>&1");
  EXPECT_EQ(audit.code, 0) << audit.output;
  EXPECT_THAT(audit.output, HasSubstr("\tnational\tcatalogue_changed\tsetup-catalogue\t"));
  EXPECT_THAT(audit.output, HasSubstr("more: --after 2"));
  // The observer, by its token in the environment: not the audit trail.
  auto observer = RunCommand("PSC_TOKEN=" + kObserver.token + " " +
                             psc.substr(0, psc.find(" --server")) + " audit --server " +
                             server_->address + tls + " 2>&1");
  EXPECT_EQ(observer.code, 1);
  EXPECT_THAT(observer.output, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(observer.output, Not(HasSubstr(kObserver.token)));
  // No credentials: UNAUTHENTICATED; a token without TLS: refused before
  // anything is sent.
  auto nobody = RunCommand(testing::BinPath("psc") + " status --server " + server_->address + tls + " 2>&1");
  EXPECT_EQ(nobody.code, 1);
  EXPECT_THAT(nobody.output, HasSubstr("UNAUTHENTICATED"));
  auto plain = RunCommand("PSC_TOKEN=x " + testing::BinPath("psc") + " status --server " +
                          server_->address + " 2>&1");
  EXPECT_EQ(plain.code, 1);
  EXPECT_THAT(plain.output, HasSubstr("needs --tls-ca"));
}

TEST(AccessStartTest, WithoutAPolicyOnlyLoopbackIsServed) {
  testing::TempDir dir;
  // Not loopback, no policy: refused, naming the flag.
  auto open = RunCommand(testing::BinPath("pscd") + " --data-dir " + dir.Sub("a") +
                         " --listen 0.0.0.0:0 2>&1");
  EXPECT_EQ(open.code, 1);
  EXPECT_THAT(open.output, HasSubstr("--listen 0.0.0.0:0 is not a loopback address"));
  // A policy without TLS: refused.
  auto plain = RunCommand(testing::BinPath("pscd") + " --data-dir " + dir.Sub("b") +
                          " --policy /nonexistent.json 2>&1");
  EXPECT_EQ(plain.code, 1);
  EXPECT_THAT(plain.output, HasSubstr("--policy needs --tls-cert and --tls-key"));
}

}  // namespace
}  // namespace psc::e2e
