// The contract every EventLog backend must keep, as one parameterised test
// suite. A backend's test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Journal, EventLogConformance,
//                            ::testing::Values(&MakeJournalForTest),
//                            [](const auto&) { return std::string("log"); });
//
// The factory returns a fresh, empty log (and owns whatever it needs to
// keep alive through the returned handle). The tests themselves are in
// log_conformance.cc: link it into the test binary.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "psc/eventlog/event_log.h"
#include "psc/testing/logs.h"

namespace psc::eventlog {

using LogUnderTest = ::psc::testing::LogUnderTest;
using LogFactory = ::psc::testing::LogFactory;

class EventLogConformance : public ::testing::TestWithParam<LogFactory> {
 protected:
  void SetUp() override { under_test_ = GetParam()(); }
  EventLog& log() { return *under_test_.log; }

  std::vector<Record> ReadAll(LogReader& reader, size_t expected) {
    std::vector<Record> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto batch = reader.Read(1000, std::chrono::milliseconds(200));
      if (!batch.ok()) {
        ADD_FAILURE() << batch.status();
        break;
      }
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }

  LogUnderTest under_test_;
};

}  // namespace psc::eventlog
