// The benchmark's workload: the interned rows say what the demo generator
// said, and a plan sends every row once, in order, in waves that keep each
// value's changes in log order.
#include "workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace psc::bench {
namespace {

constexpr uint64_t kRows = 20'000;
constexpr uint64_t kSeed = 20250401;

const Workload& Shared() {
  static const Workload* w = new Workload(MakeWorkload(kRows, kSeed));
  return *w;
}

TEST(WorkloadTest, RowsAreTheGeneratorsRowsInOrder) {
  const Workload& w = Shared();
  std::vector<v1::Observation> expected;
  demo::GenerateStream(demo::BenchOptions(kRows, kSeed), [&](demo::DemoRequest&& r) {
    if (r.resend || !r.observations) return;
    for (auto& row : *r.observations->mutable_rows()) expected.push_back(std::move(row));
  });
  ASSERT_EQ(w.rows.size(), expected.size());
  ASSERT_GT(w.rows.size(), kRows / 2);
  bool counts = false, proportions = false;
  for (size_t i = 0; i < expected.size(); ++i) {
    v1::ObservationsSubmitted one;
    w.AddTo(w.rows[i], one);
    ASSERT_EQ(one.rows(0).SerializeAsString(), expected[i].SerializeAsString())
        << "row " << i << ": " << one.rows(0).ShortDebugString() << " vs "
        << expected[i].ShortDebugString();
    (expected[i].has_denominator() ? proportions : counts) = true;
  }
  EXPECT_TRUE(counts && proportions) << "the workload has rows with and without a denominator";
  EXPECT_EQ(w.months.front(), w.first_month.ToString());
  EXPECT_EQ(w.months.back(), w.last_month.ToString());
}

TEST(WorkloadTest, PlanSendsEveryRowOnceInOrderAndResendsVerbatim) {
  const Workload& w = Shared();
  const Plan plan(w, 15'000, 500, "t");
  EXPECT_EQ(plan.rows(), 15'000u);
  uint64_t next_row = 0;
  std::set<std::string> ids;
  std::map<std::string, std::string> sent;  // id -> message
  size_t resends = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    v1::ObservationsSubmitted batch;
    plan.Fill(i, batch);
    EXPECT_EQ(batch.submission_id(), plan.SubmissionId(i));
    ASSERT_GE(batch.rows_size(), 1);
    ASSERT_LE(batch.rows_size(), 500);
    if (plan.request(i).resend) {
      ++resends;
      ASSERT_TRUE(sent.count(batch.submission_id())) << "a resend follows its original";
      EXPECT_EQ(sent[batch.submission_id()], batch.SerializeAsString());
      continue;
    }
    EXPECT_EQ(plan.request(i).first_row, next_row);
    next_row += static_cast<uint64_t>(batch.rows_size());
    EXPECT_TRUE(sent.emplace(batch.submission_id(), batch.SerializeAsString()).second);
    std::set<std::tuple<std::string, std::string, std::string>> keys;
    for (const auto& row : batch.rows()) {
      EXPECT_TRUE(keys.emplace(row.ods_code(), row.measure_id(), row.month()).second)
          << "a key twice in " << batch.submission_id();
    }
    // The event carries the same request.
    v1::Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(plan.Event(i)));
    EXPECT_EQ(envelope.observations_submitted().SerializeAsString(), batch.SerializeAsString());
  }
  EXPECT_EQ(next_row, 15'000u);
  const size_t originals = plan.size() - resends;
  EXPECT_EQ(resends, originals / 100);
}

TEST(WorkloadTest, WavesCoverThePlanAndNeverChangeAValueTwice) {
  const Workload& w = Shared();
  const Plan plan(w, w.rows.size(), 1000, "t");
  ASSERT_FALSE(plan.waves().empty());
  size_t expected_begin = 0;
  bool corrections = false;
  std::set<uint64_t> seen;  // keys of every wave so far
  for (const auto& [begin, end] : plan.waves()) {
    EXPECT_EQ(begin, expected_begin);
    ASSERT_LT(begin, end);
    expected_begin = end;
    std::set<uint64_t> wave;
    for (size_t i = begin; i < end; ++i) {
      const Request& r = plan.request(i);
      if (r.resend) continue;
      for (uint64_t row = r.first_row; row < r.first_row + r.size; ++row) {
        const uint64_t key = Workload::KeyOf(w.rows[row]);
        EXPECT_TRUE(wave.insert(key).second) << "a value changed twice in one wave";
        corrections |= seen.count(key) > 0;
      }
    }
    seen.insert(wave.begin(), wave.end());
  }
  EXPECT_EQ(expected_begin, plan.size());
  EXPECT_TRUE(corrections) << "the workload corrects values sent in earlier waves";
  EXPECT_GT(plan.waves().size(), 1u);
}

}  // namespace
}  // namespace psc::bench
