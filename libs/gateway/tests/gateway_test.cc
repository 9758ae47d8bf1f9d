// The gateway on a real embedded journal: what it appends, what it refuses,
// and how repeated request ids are answered.
#include "psc/gateway/gateway.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include <thread>

#include "psc/domain/violations.h"
#include "psc/eventlog/journal.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/metrics.h"
#include "psc/testing/process.h"

namespace psc::gateway {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::Obs;
using ::psc::testing::SmallCatalogue;
using ::testing::ElementsAre;
using ::testing::Field;

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 30 April 2024 23:30 UTC is already 1 May in London (BST).
    clock_.Set(UtcTime(2024, 4, 30, 23, 30));
    Reopen();
  }

  void Reopen() {
    gateway_.reset();
    journal_.reset();
    auto journal = eventlog::Journal::Open(dir_.Sub("journal"));
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = std::move(*journal);
    gateway_ = std::make_unique<Gateway>(*journal_, clock_);
    ASSERT_TRUE(gateway_->Start().ok());
  }

  uint64_t End() { return journal_->End()->value(); }

  v1::Receipt LoadCatalogue() {
    auto receipt = gateway_->ChangeCatalogue(SmallCatalogue(), "national");
    EXPECT_TRUE(receipt.ok()) << receipt.status();
    return receipt.value_or(v1::Receipt());
  }

  ::psc::testing::TempDir dir_;
  ManualClock clock_{UtcTime(2024, 4, 30, 23, 30)};
  std::unique_ptr<eventlog::Journal> journal_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayTest, AcceptedBatchIsOneEventWithItsReceipt) {
  EXPECT_EQ(LoadCatalogue().position(), 1u);
  auto receipt = gateway_->SubmitObservations(
      Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3),
                   Obs("RDZ", "falls-harm-rate.v1", "2024-05", 1, 900)}),
      100, "feed-1");
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->id(), "s1");
  EXPECT_EQ(receipt->position(), 2u);
  EXPECT_EQ(receipt->rows_accepted(), 2u);
  EXPECT_FALSE(receipt->duplicate());
  EXPECT_EQ(receipt->recorded_at().seconds(),
            std::chrono::duration_cast<std::chrono::seconds>(
                UtcTime(2024, 4, 30, 23, 30).time_since_epoch())
                .count());

  auto reader = journal_->OpenReader(LogPosition(1));
  auto records = (*reader)->Read(10, std::chrono::seconds(1));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  v1::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString((*records)[0].payload));
  EXPECT_EQ(envelope.principal(), "feed-1");
  EXPECT_FALSE(envelope.event_id().empty());
  ASSERT_TRUE(envelope.has_observations_submitted());
  EXPECT_EQ(envelope.observations_submitted().rows(1).denominator(), 900);
}

TEST_F(GatewayTest, RepeatedSubmissionIdAnswersTheOriginalReceiptAndAppendsNothing) {
  LoadCatalogue();
  auto first = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                            100, "feed-1");
  ASSERT_TRUE(first.ok());
  clock_.Set(UtcTime(2024, 5, 2));
  auto again = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 9)}),
                                            100, "feed-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->position(), first->position());
  EXPECT_EQ(again->recorded_at().seconds(), first->recorded_at().seconds());
  EXPECT_EQ(End(), 2u);

  // Also after a restart, from the log alone.
  Reopen();
  auto after = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 9)}),
                                            100, "feed-1");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->duplicate());
  EXPECT_EQ(after->position(), 2u);
  EXPECT_EQ(End(), 2u);
}

TEST_F(GatewayTest, ConcurrentRequestsWithOneIdAppendOnce) {
  LoadCatalogue();
  std::vector<std::thread> threads;
  std::vector<uint64_t> positions(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = gateway_->SubmitObservations(
          Batch("same", {Obs("RHM", "falls-count.v1", "2024-04", i)}), 100, "feed-1");
      positions[i] = r.ok() ? r->position() : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(End(), 2u);
  for (uint64_t p : positions) EXPECT_EQ(p, 2u);
}

TEST_F(GatewayTest, RefusalNamesTheFieldsAndAppendsNothing) {
  LoadCatalogue();
  auto refused = gateway_->SubmitObservations(
      Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3),
                   Obs("R1A", "news2-on-time.v1", "2024-04", 1, 2),
                   Obs("RHM", "falls-count.v1", "2024-06", 1)}),
      100, "feed-1");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = FieldViolationsOf(refused.status());
  EXPECT_THAT(violations,
              ElementsAre(Field(&FieldViolation::field, "rows[1].ods_code"),
                          Field(&FieldViolation::field, "rows[2].month")));
  EXPECT_EQ(End(), 1u);
  // The refused id stays free: a corrected batch under it is accepted.
  auto fixed = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-05", 3)}),
                                            100, "feed-1");
  EXPECT_TRUE(fixed.ok()) << fixed.status();
}

TEST_F(GatewayTest, DryRunValidatesAndAppendsNothing) {
  LoadCatalogue();
  auto ok = gateway_->DryRunObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                         100);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->dry_run());
  EXPECT_EQ(ok->position(), 0u);
  EXPECT_EQ(ok->rows_accepted(), 1u);
  auto bad = gateway_->DryRunObservations(
      Batch("s2", {Obs("RHM", "falls-count.v1", "2024-04", 3),
                   Obs("RHM", "falls-count.v1", "2024-04", 4)}),
      100);
  EXPECT_THAT(FieldViolationsOf(bad.status()),
              ElementsAre(Field(&FieldViolation::field, "rows[1]")));
  EXPECT_EQ(End(), 1u);
  // The id is still free: the real submission is accepted.
  auto real = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                           100, "feed-1");
  ASSERT_TRUE(real.ok());
  EXPECT_FALSE(real->duplicate());
  // A dry run of a known id says the real one would be a repeat.
  auto again = gateway_->DryRunObservations(
      Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}), 100);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->position(), 2u);
}

TEST_F(GatewayTest, WithdrawalIsOneEventAndRepeatsAnswerItsReceipt) {
  LoadCatalogue();
  auto refused = gateway_->WithdrawObservations(
      ::psc::testing::Withdrawal("w1", {::psc::testing::Key("XXX", "falls-count.v1", "2024-04"),
                                        ::psc::testing::Key("RHM", "falls-count.v1", "April")},
                                 ""),
      "feed-1");
  EXPECT_THAT(FieldViolationsOf(refused.status()),
              ElementsAre(Field(&FieldViolation::field, "reason")));
  refused = gateway_->WithdrawObservations(
      ::psc::testing::Withdrawal("w1", {::psc::testing::Key("XXX", "falls-count.v1", "2024-04"),
                                        ::psc::testing::Key("RHM", "falls-count.v1", "April")}),
      "feed-1");
  EXPECT_THAT(FieldViolationsOf(refused.status()),
              ElementsAre(Field(&FieldViolation::field, "keys[0].ods_code"),
                          Field(&FieldViolation::field, "keys[1].month")));
  EXPECT_EQ(End(), 1u);
  auto w = gateway_->WithdrawObservations(
      ::psc::testing::Withdrawal("w1", {::psc::testing::Key("RHM", "falls-count.v1", "2024-04")}),
      "feed-1");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->position(), 2u);
  Reopen();
  auto again = gateway_->WithdrawObservations(
      ::psc::testing::Withdrawal("w1", {::psc::testing::Key("RDZ", "falls-count.v1", "2024-04")}),
      "feed-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->position(), 2u);
  EXPECT_EQ(End(), 2u);
}

TEST_F(GatewayTest, ConflictingCatalogueChangeIsRefusedWithItsField) {
  LoadCatalogue();
  v1::CatalogueChanged moved = SmallCatalogue("c2");
  moved.mutable_organisations(0)->set_collaborative_id("oxford");
  auto refused = gateway_->ChangeCatalogue(moved, "national");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = FieldViolationsOf(refused.status());
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations[0].field, "change.organisations[0].ods_code");
  EXPECT_EQ(End(), 1u);
}

TEST_F(GatewayTest, TwoGatewaysOnOneLogAgree) {
  Gateway other(*journal_, clock_);
  ASSERT_TRUE(other.Start().ok());
  auto catalogue = LoadCatalogue();
  // The second gateway learns the catalogue from the log, not from the first.
  ASSERT_TRUE(other.WaitFor(LogPosition(catalogue.position()),
                            std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  EXPECT_NE(other.catalogue()->FindMeasure("falls-count.v1"), nullptr);
  auto first = gateway_->SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                            100, "feed-1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(other.WaitFor(LogPosition(first->position()),
                            std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  auto again = other.SubmitObservations(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                        100, "feed-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->position(), first->position());
  other.Stop();
}

TEST_F(GatewayTest, ProbeCountsRequestsRowsAndRefusalsByReason) {
  prometheus::Registry registry;
  gateway_.reset();
  gateway_ = std::make_unique<Gateway>(*journal_, clock_, GatewayOptions{.metrics = &registry});
  ASSERT_TRUE(gateway_->Start().ok());
  LoadCatalogue();
  const auto batch = Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 3),
                                  Obs("RDZ", "falls-count.v1", "2024-04", 1)});
  ASSERT_TRUE(gateway_->SubmitObservations(batch, 100, "feed").ok());
  ASSERT_TRUE(gateway_->SubmitObservations(batch, 100, "feed")->duplicate());
  // Three rows, one unknown organisation: refused whole, by its reason.
  EXPECT_FALSE(gateway_->SubmitObservations(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-03", 1),
                                                         Obs("XXX", "falls-count.v1", "2024-04", 1),
                                                         Obs("RDZ", "falls-count.v1", "2024-03", 1)}),
                                            100, "feed")
                   .ok());
  EXPECT_FALSE(gateway_->SubmitObservations(Batch("s3", {Obs("RHM", "nope.v1", "2024-04", 1)}), 100,
                                            "feed")
                   .ok());
  EXPECT_FALSE(
      gateway_->WithdrawObservations(::psc::testing::Withdrawal("w1", {}), "feed").ok());

  // The fold tails the log in the background: let it read s1.
  ASSERT_TRUE(gateway_->WaitFor(LogPosition(2),
                                std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  const auto m = ::psc::testing::Collect(registry);
  auto requests = [&](const std::string& kind, const std::string& outcome) {
    return m.Value("psc_gateway_requests_total", {{"kind", kind}, {"outcome", outcome}});
  };
  EXPECT_EQ(requests("catalogue", "accepted"), 1);
  EXPECT_EQ(requests("observations", "accepted"), 1);
  EXPECT_EQ(requests("observations", "duplicate"), 1);
  EXPECT_EQ(requests("observations", "refused"), 2);
  EXPECT_EQ(requests("withdrawal", "refused"), 1);
  EXPECT_EQ(requests("observations", "failed"), std::nullopt);
  // Rows: 2 accepted (the duplicate appends nothing), 3 + 1 refused.
  EXPECT_EQ(m.Value("psc_gateway_rows_total", {{"kind", "observations"}, {"outcome", "accepted"}}),
            2);
  EXPECT_EQ(m.Value("psc_gateway_rows_total", {{"kind", "observations"}, {"outcome", "refused"}}),
            4);
  EXPECT_EQ(m.Value("psc_gateway_refusals_total",
                    {{"kind", "observations"}, {"reason", "UNKNOWN_ORGANISATION"}}),
            1);
  EXPECT_EQ(m.Value("psc_gateway_refusals_total",
                    {{"kind", "observations"}, {"reason", "UNKNOWN_MEASURE"}}),
            1);
  EXPECT_EQ(m.Value("psc_gateway_refusals_total", {{"kind", "withdrawal"}, {"reason", "NO_KEYS"}}),
            1);
  // The fold has read the catalogue change and s1.
  EXPECT_EQ(m.Value("psc_gateway_fold_position"), 2);
  gateway_.reset();  // its tail reports to `registry` until it stops
}

TEST(GatewayProbeTest, ReasonIsTheFirstViolationOrTheCodeAndStaysBounded) {
  EXPECT_EQ(GatewayProbe::ReasonOf(InvalidField("rows[0].month", "MONTH_IN_FUTURE", "later")),
            "MONTH_IN_FUTURE");
  EXPECT_EQ(GatewayProbe::ReasonOf(absl::FailedPreconditionError("x")), "FAILED_PRECONDITION");
  EXPECT_EQ(GatewayProbe::ReasonOf(InvalidField("f", "free text, not a code", "d")), "OTHER");
  EXPECT_TRUE(GatewayProbe::IsRefusal(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(GatewayProbe::IsRefusal(absl::UnavailableError("x")));
  EXPECT_FALSE(GatewayProbe::IsRefusal(absl::InternalError("x")));
}

}  // namespace
}  // namespace psc::gateway
