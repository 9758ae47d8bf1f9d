// ReportCache: a report is built once per position and quarter, and a new
// position builds again (a real read model folded from events).
#include "psc/report/cache.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <string>
#include <vector>

#include "psc/report/report.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::report {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;
using ::psc::testing::SmallCatalogue;

constexpr Quarter kQ1 = Quarter::Of(2024, 1);  // Apr-Jun 2024
constexpr Quarter kQ2 = Quarter::Of(2024, 2);  // Jul-Sep 2024

class ReportCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = projection::ReadModel::Open(dir_.Sub("readmodel"));
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    Apply(EventOf(SmallCatalogue()));
  }

  void Apply(std::string payload) {
    records_.push_back({LogPosition(records_.size() + 1), std::move(payload)});
    ASSERT_TRUE(model_->Apply({records_.back()}).ok());
  }

  std::shared_ptr<const v1::QuarterlyReport> Get(ReportCache& cache, Quarter q) {
    auto view = model_->Snapshot();
    auto report = cache.Get(view, q);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(nullptr);
  }

  v1::QuarterlyReport Built(Quarter q) {
    auto view = model_->Snapshot();
    return BuildQuarterlyReport(view, q).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<projection::ReadModel> model_;
  std::vector<eventlog::Record> records_;
};

TEST_F(ReportCacheTest, SamePositionSharesOneReportAndNewPositionsBuildAgain) {
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)})));
  ReportCache cache;
  auto first = Get(cache, kQ1);
  auto again = Get(cache, kQ1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first.get(), again.get());
  EXPECT_EQ(cache.builds(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(first->as_of_position(), 2u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*first, Built(kQ1)));

  // A new event: the cached report would be stale, so it is built again
  // and says the new figure (5 + 3 = 8 for falls-count in wessex).
  Apply(EventOf(Batch("s2", {Obs("RDZ", "falls-count.v1", "2024-05", 3)})));
  auto after = Get(cache, kQ1);
  ASSERT_NE(after, nullptr);
  EXPECT_NE(after.get(), first.get());
  EXPECT_EQ(after->as_of_position(), 3u);
  EXPECT_EQ(cache.builds(), 2u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*after, Built(kQ1)));
  EXPECT_FALSE(google::protobuf::util::MessageDifferencer::Equals(*after, *first));
}

TEST_F(ReportCacheTest, KeepsAtMostItsCapacityOfQuartersDroppingTheLeastRecentlyAsked) {
  ReportCache cache(/*quarters=*/1);
  auto q1 = Get(cache, kQ1);
  auto q2 = Get(cache, kQ2);  // drops Q1
  auto q1_again = Get(cache, kQ1);
  ASSERT_NE(q1, nullptr);
  EXPECT_NE(q1.get(), q1_again.get());
  EXPECT_EQ(cache.builds(), 3u);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(q2->quarter(), kQ2.ToString());
}

TEST_F(ReportCacheTest, ErrorsAreReturnedAndNotKept) {
  ReportCache cache;
  auto view = model_->Snapshot();
  const Quarter outside = Quarter::Of(Month::kMaxYear + 1, 1);
  auto report = cache.Get(view, outside);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.builds(), 0u);
}

}  // namespace
}  // namespace psc::report
