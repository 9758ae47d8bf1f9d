// Fresh event logs for tests, one per backend, so a suite can run the same
// tests against each (INSTANTIATE_TEST_SUITE_P with these factories).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "psc/eventlog/event_log.h"

namespace psc::testing {

// A fresh empty log plus whatever keeps it alive (folders, processes).
struct LogUnderTest {
  std::shared_ptr<void> keep_alive;
  std::unique_ptr<eventlog::EventLog> log;
  // Opens the same log again (as after a restart), or empty when the
  // backend cannot.
  std::function<std::unique_ptr<eventlog::EventLog>()> reopen;
};
using LogFactory = LogUnderTest (*)();

// The embedded journal in a temporary folder.
LogUnderTest MakeJournalLog();
// The in-memory log (unit tests only).
LogUnderTest MakeMemoryLog();
// The Kafka log on a fresh one-partition topic of a test cluster
// (psc-kafka-test-cluster) that all calls in the process share.
LogUnderTest MakeKafkaLog();

}  // namespace psc::testing
