// Outstanding returns on a real read model, worked out by hand from
// psc::testing::SmallCatalogue (enrolled from 2024-01; R1A not enrolled for
// news2; RTH's falls-count enrolment ends 2024-06).
#include "psc/report/outstanding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::report {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;
using ::testing::ElementsAre;

class OutstandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = projection::ReadModel::Open(dir_.path());
    ASSERT_TRUE(model.ok());
    model_ = std::move(*model);
    Apply(EventOf(::psc::testing::SmallCatalogue()));
    // RHM's April falls count arrives one second before the deadline
    // (16 May 2024 00:00 BST = 1715814000); everything else is late.
    Apply(EventOf(Batch("on-time", {Obs("RHM", "falls-count.v1", "2024-04", 1)}),
                  1'715'814'000 - 1, "feed"));
    Apply(EventOf(Batch("late", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 1, 100),
                                 Obs("RHM", "news2-on-time.v1", "2024-04", 1, 2),
                                 Obs("RHM", "staff-trained.v1", "2024-04", 3),
                                 Obs("RTH", "falls-count.v1", "2024-04", 1),
                                 Obs("RTH", "falls-harm-rate.v1", "2024-04", 1, 100),
                                 Obs("RTH", "staff-trained.v1", "2024-04", 3),
                                 Obs("RTH", "cc-admissions.v1", "2024-04", 2)})));
  }

  void Apply(std::string payload) {
    ++position_;
    ASSERT_TRUE(model_->Apply({{LogPosition(position_), std::move(payload)}}).ok());
  }

  absl::StatusOr<v1::OutstandingReturns> Outstanding(const std::string& month,
                                                     const std::string& collaborative = "") {
    v1::ListOutstandingReturnsRequest request;
    request.set_month(month);
    request.set_collaborative_id(collaborative);
    auto view = model_->Snapshot();
    return BuildOutstandingReturns(view, request);
  }

  ::psc::testing::TempDir dir_;
  std::unique_ptr<projection::ReadModel> model_;
  uint64_t position_ = 0;
};

TEST_F(OutstandingTest, ListsMissingReturnsPerCollaborative) {
  auto out = Outstanding("2024-04");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->as_of_position(), 3u);
  ASSERT_EQ(out->collaboratives_size(), 2);

  // oxford: RTH 5 measures + R1A 4 (no news2) = 9 expected; RTH reported 4.
  const auto& oxford = out->collaboratives(0);
  EXPECT_EQ(oxford.collaborative_id(), "oxford");
  EXPECT_EQ(oxford.expected(), 9);
  EXPECT_EQ(oxford.reported(), 4);
  EXPECT_EQ(oxford.on_time(), 0);
  ASSERT_EQ(oxford.outstanding_size(), 2);
  EXPECT_EQ(oxford.outstanding(0).ods_code(), "R1A");
  EXPECT_THAT(oxford.outstanding(0).measure_ids(),
              ElementsAre("cc-admissions.v1", "falls-count.v1", "falls-harm-rate.v1",
                          "staff-trained.v1"));
  EXPECT_EQ(oxford.outstanding(1).ods_code(), "RTH");
  EXPECT_THAT(oxford.outstanding(1).measure_ids(), ElementsAre("news2-on-time.v1"));

  // wessex: RHM 5 + RDZ 5 = 10; RHM reported 4, one of them on time.
  const auto& wessex = out->collaboratives(1);
  EXPECT_EQ(wessex.expected(), 10);
  EXPECT_EQ(wessex.reported(), 4);
  EXPECT_EQ(wessex.on_time(), 1);
  ASSERT_EQ(wessex.outstanding_size(), 2);
  EXPECT_EQ(wessex.outstanding(0).ods_code(), "RDZ");
  EXPECT_EQ(wessex.outstanding(0).measure_ids_size(), 5);
  EXPECT_EQ(wessex.outstanding(1).ods_code(), "RHM");
  EXPECT_THAT(wessex.outstanding(1).measure_ids(), ElementsAre("cc-admissions.v1"));
}

TEST_F(OutstandingTest, FollowsEnrolmentAndFilters) {
  // July: RTH's falls-count enrolment has ended: oxford expects 4 + 4.
  auto july = Outstanding("2024-07", "oxford");
  ASSERT_TRUE(july.ok());
  ASSERT_EQ(july->collaboratives_size(), 1);
  EXPECT_EQ(july->collaboratives(0).expected(), 8);
  EXPECT_EQ(july->collaboratives(0).reported(), 0);
  // Before anyone was enrolled: nothing expected, nothing listed.
  auto before = Outstanding("2023-12");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->collaboratives_size(), 0);
  EXPECT_EQ(Outstanding("2024-13").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Outstanding("2024-04", "nowhere").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace psc::report
