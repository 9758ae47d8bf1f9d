// Fixture of the projection suite: a fresh log from a backend factory and a
// read model in a temporary folder, with helpers to append and fold.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "psc/domain/strings.h"
#include "psc/projection/projector.h"
#include "psc/projection/read_model.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/logs.h"
#include "psc/testing/process.h"

namespace psc::projection {

class ProjectionSuite : public ::testing::TestWithParam<::psc::testing::LogFactory> {
 protected:
  void SetUp() override {
    log_ = GetParam()();
    auto model = ReadModel::Open(dir_.Sub("readmodel"));
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
  }

  eventlog::EventLog& log() { return *log_.log; }
  ReadModel& model() { return *model_; }

  LogPosition Append(std::string payload) {
    auto position = log().Append("key", std::move(payload));
    EXPECT_TRUE(position.ok()) << position.status();
    return position.value_or(LogPosition());
  }

  // Folds the log up to its end in this thread.
  void CatchUp() {
    Projector projector(model(), log());
    auto status = projector.CatchUp(nullptr, std::chrono::seconds(10));
    ASSERT_TRUE(status.ok()) << status;
  }

  Sums MonthSums(std::string_view measure, Month month, std::string_view collaborative) {
    auto view = model().Snapshot();
    const MeasureAggregates* agg = view.Aggregates(measure);
    if (agg == nullptr) return {};
    auto m = agg->months.find(month.index());
    if (m == agg->months.end()) return {};
    auto c = m->second.find(collaborative);
    return c == m->second.end() ? Sums{} : c->second;
  }

  Sums QuarterLastSums(std::string_view measure, Quarter quarter, std::string_view collaborative) {
    auto view = model().Snapshot();
    const MeasureAggregates* agg = view.Aggregates(measure);
    if (agg == nullptr) return {};
    auto q = agg->quarters_last.find(quarter.index());
    if (q == agg->quarters_last.end()) return {};
    auto c = q->second.find(collaborative);
    return c == q->second.end() ? Sums{} : c->second;
  }

  std::string Dump() {
    auto dump = model().Dump();
    EXPECT_TRUE(dump.ok()) << dump.status();
    return dump.value_or("");
  }

  // The dump without the meta family (which holds the applied position).
  std::string StateDump() {
    std::string out;
    std::string all = Dump();
    size_t begin = 0;
    while (begin < all.size()) {
      size_t end = all.find('\n', begin);
      std::string_view line(all.data() + begin, end - begin);
      if (line.substr(0, 5) != "meta\t") StrAppend(&out, line, "\n");
      begin = end + 1;
    }
    return out;
  }

  ::psc::testing::TempDir dir_;
  ::psc::testing::LogUnderTest log_;
  std::unique_ptr<ReadModel> model_;
};

}  // namespace psc::projection
