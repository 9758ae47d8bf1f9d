// Erasure of learning text (UK GDPR), end to end on pscd: the text never
// reaches the log in the clear, erasing destroys its key, and the text stays
// gone through a rebuild of the read model while the learning keeps
// counting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "psc/testing/fixtures.h"

namespace psc::e2e {
namespace {

using ::psc::testing::LearningOf;
using ::psc::testing::Obs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTitle[] = "Falls huddles at the nurses' station";
constexpr char kSummary[] = "Ward 7B met for five minutes at every shift change.";
constexpr char kOtherTitle[] = "Bed rails audit on the stroke unit";

// Every byte of every file under `dir`.
std::string BytesUnder(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    all += bytes.str();
  }
  return all;
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) n += entry.is_regular_file();
  return n;
}

class ErasureTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data-dir", dir_.Sub("data")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = StartServer("pscd", args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void Stop() {
    server_.process->Signal(SIGTERM);
    auto code = server_.process->Wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
  }
  void TearDown() override {
    if (server_.process) Stop();
  }

  // The text report of 2024/25 Q1, and its structured form.
  v1::GetQuarterlyReportResponse Report(uint64_t min_position) {
    v1::GetQuarterlyReportRequest request;
    request.set_quarter("2024/25 Q1");
    request.set_format(v1::REPORT_FORMAT_TEXT);
    request.set_min_position(min_position);
    v1::GetQuarterlyReportResponse response;
    auto s = server_.query->GetQuarterlyReport(Ctx().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  // The wessex case studies counted on falls, and whether l-huddles' text
  // is marked erased.
  static std::pair<int, bool> WessexFalls(const v1::QuarterlyReport& report) {
    for (const auto& s : report.learning()) {
      if (s.collaborative_id() != "wessex" || s.topic_id() != "falls") continue;
      bool erased = false;
      for (const auto& item : s.items()) {
        if (item.learning_id() == "l-huddles") erased = item.text_erased();
      }
      return {s.case_studies(), erased};
    }
    return {0, false};
  }

  testing::TempDir dir_;
  Server server_;
};

TEST_F(ErasureTest, TheTextIsGoneEverywhereAndTheLearningStillCounts) {
  Start();
  v1::Receipt receipt;
  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = testing::SmallCatalogue();
  ASSERT_TRUE(server_.catalog->ChangeCatalogue(Ctx().get(), change, &receipt).ok());
  ASSERT_TRUE(server_.ingest
                  ->SubmitObservations(Ctx().get(),
                                       Submission("s1", {Obs("RHM", "falls-count.v1", "2024-05", 4)}),
                                       &receipt)
                  .ok());
  v1::ShareLearningRequest share;
  *share.mutable_learning() = LearningOf("l-huddles", "wessex", "falls", "2024-05");
  share.mutable_learning()->set_title(kTitle);
  share.mutable_learning()->set_summary(kSummary);
  auto s = server_.ingest->ShareLearning(Ctx().get(), share, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  *share.mutable_learning() = LearningOf("l-rails", "oxford", "falls", "2024-06");
  share.mutable_learning()->set_title(kOtherTitle);
  ASSERT_TRUE(server_.ingest->ShareLearning(Ctx().get(), share, &receipt).ok());

  // Shared: the report shows the titles; the log holds neither text in
  // the clear; the key store holds one key per learning.
  auto before = Report(receipt.position());
  EXPECT_THAT(before.rendered(), HasSubstr(kTitle));
  EXPECT_THAT(before.rendered(), HasSubstr(kOtherTitle));
  EXPECT_EQ(WessexFalls(before.report()), std::make_pair(1, false));
  const std::string journal = BytesUnder(dir_.Sub("data/journal"));
  EXPECT_THAT(journal, HasSubstr("l-huddles")) << "the learning itself is on the log";
  EXPECT_THAT(journal, Not(HasSubstr(kTitle)));
  EXPECT_THAT(journal, Not(HasSubstr(kSummary)));
  EXPECT_THAT(journal, Not(HasSubstr(kOtherTitle)));
  EXPECT_EQ(FilesIn(dir_.Sub("data/keys")), 2u);

  // Erased: the key is destroyed, the report marks the text erased and
  // still counts the case study; the other learning is untouched.
  v1::EraseLearningRequest erase;
  erase.set_erasure_id("erase-1");
  erase.set_learning_id("l-huddles");
  erase.set_reason("subject access request SAR-117");
  s = server_.ingest->EraseLearning(Ctx().get(), erase, &receipt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(receipt.principal(), "local");
  EXPECT_EQ(FilesIn(dir_.Sub("data/keys")), 1u);
  auto after = Report(receipt.position());
  EXPECT_THAT(after.rendered(), Not(HasSubstr(kTitle)));
  EXPECT_THAT(after.rendered(), HasSubstr("(text erased on request)"));
  EXPECT_THAT(after.rendered(), HasSubstr(kOtherTitle));
  EXPECT_EQ(WessexFalls(after.report()), std::make_pair(1, true));
  // Sent again: the original receipt; an unknown learning: NOT_FOUND.
  ASSERT_TRUE(server_.ingest->EraseLearning(Ctx().get(), erase, &receipt).ok());
  EXPECT_TRUE(receipt.duplicate());
  erase.set_erasure_id("erase-2");
  erase.set_learning_id("l-nowhere");
  EXPECT_EQ(server_.ingest->EraseLearning(Ctx().get(), erase, &receipt).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A publication never freezes learning text, erased or not.
  v1::PublishQuarterRequest publish;
  publish.set_publication_id("q1");
  publish.set_quarter("2024/25 Q1");
  ASSERT_TRUE(server_.publication->PublishQuarter(Ctx().get(), publish, &receipt).ok());
  const uint64_t end = receipt.position();
  EXPECT_THAT(BytesUnder(dir_.Sub("data/journal")), Not(HasSubstr(kOtherTitle)));

  // Rebuilt from the log: the erased text stays gone, the rest is back.
  Stop();
  server_ = Server();
  Start({"--rebuild"});
  auto rebuilt = Report(end);
  EXPECT_THAT(rebuilt.rendered(), Not(HasSubstr(kTitle)));
  EXPECT_THAT(rebuilt.rendered(), HasSubstr("(text erased on request)"));
  EXPECT_THAT(rebuilt.rendered(), HasSubstr(kOtherTitle));
  EXPECT_EQ(WessexFalls(rebuilt.report()), std::make_pair(1, true));
  EXPECT_EQ(rebuilt.report().learning_size(), after.report().learning_size());

  // The audit trail says who erased what, when.
  v1::ListAuditRequest audit;
  audit.set_principal("local");
  v1::AuditTrail trail;
  ASSERT_TRUE(server_.query->ListAudit(Ctx().get(), audit, &trail).ok());
  std::vector<std::string> actions;
  for (const auto& e : trail.entries()) actions.push_back(e.action() + " " + e.request_id());
  EXPECT_THAT(actions, ::testing::Contains("learning_erased erase-1"));
}

}  // namespace
}  // namespace psc::e2e
