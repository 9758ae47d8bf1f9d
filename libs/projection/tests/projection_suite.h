// Fixture of the projection suite: a fresh log from a backend factory and a
// read model in a temporary folder, with helpers to append and fold.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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

  // The sums of one period (a month, or a quarter's AGGREGATION_LAST sums)
  // of one collaborative, or of the nation when `collaborative` is empty.
  Sums PeriodSums(std::string_view measure, bool quarter, int period,
                  std::string_view collaborative) {
    auto view = model().Snapshot();
    Sums total;
    const MeasureAggregates* agg = view.Aggregates(measure);
    if (agg == nullptr) return total;
    const auto& by_period = quarter ? agg->quarters_last : agg->months;
    auto p = by_period.find(period);
    if (p == by_period.end()) return total;
    for (const auto& [c, sums] : p->second) {
      if (collaborative.empty() || c == collaborative) total += sums;
    }
    return total;
  }
  Sums MonthSums(std::string_view measure, Month month, std::string_view collaborative) {
    return PeriodSums(measure, false, month.index(), collaborative);
  }
  Sums QuarterLastSums(std::string_view measure, Quarter quarter, std::string_view collaborative) {
    return PeriodSums(measure, true, quarter.index(), collaborative);
  }
  Sums NationalMonthSums(std::string_view measure, Month month) {
    return PeriodSums(measure, false, month.index(), "");
  }
  Sums NationalQuarterLastSums(std::string_view measure, Quarter quarter) {
    return PeriodSums(measure, true, quarter.index(), "");
  }

  // Folds the whole log again into a fresh read model in runs of `steps`
  // events (the last run takes what is left), reopening the read model
  // between runs as after a crash, and sets `dump` to its Dump().
  void SplitFold(const std::vector<size_t>& steps, std::string* dump) {
    ::psc::testing::TempDir dir;
    LogPosition end = *log().End();
    uint64_t at = 0;
    for (size_t i = 0; i < steps.size() && at < end.value(); ++i) {
      const size_t step = i + 1 == steps.size() ? end.value() - at : steps[i];
      auto split = ReadModel::Open(dir.path());
      ASSERT_TRUE(split.ok()) << split.status();
      ASSERT_TRUE((*split)->BindToLog(log().LogId()).ok());
      ASSERT_EQ((*split)->applied().value(), at);
      auto reader = log().OpenReader(LogPosition(at));
      ASSERT_TRUE(reader.ok());
      std::vector<eventlog::Record> run;
      while (run.size() < step && at + run.size() < end.value()) {
        auto got = (*reader)->Read(step - run.size(), std::chrono::seconds(5));
        ASSERT_TRUE(got.ok()) << got.status();
        for (auto& r : *got) run.push_back(std::move(r));
      }
      ASSERT_TRUE((*split)->Apply(run).ok());
      at += run.size();
    }
    ASSERT_EQ(at, end.value());
    auto split = ReadModel::Open(dir.path());
    ASSERT_TRUE(split.ok());
    auto out = (*split)->Dump();
    ASSERT_TRUE(out.ok()) << out.status();
    *dump = *out;
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
