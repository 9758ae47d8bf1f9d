// A complete in-memory EventLog, for unit tests of the code above the log.
// Never used by a product binary or an end-to-end test. It can be told to
// fail appends, to drop its oldest events (as retention would), and it
// reports how it was used.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>

#include "psc/eventlog/event_log.h"

namespace psc::eventlog {

class MemoryLog final : public EventLog {
 public:
  MemoryLog() = default;

  absl::StatusOr<LogPosition> Append(std::string_view key, std::string payload) override;
  absl::StatusOr<LogPosition> End() override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(LogPosition after) override;
  std::string LogId() const override { return "memory"; }
  std::string Describe() const override { return "memory"; }

  // The next `n` appends fail with UNAVAILABLE and append nothing.
  void FailNextAppends(int n);
  // Forgets every event up to and including `position`.
  void DropThrough(LogPosition position);
  // Every payload on the log, in order (dropped ones excluded).
  std::vector<std::string> Payloads() const;

 private:
  friend class MemoryLogReader;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  std::deque<std::string> events_;  // events_[0] is at position first_ + 1
  uint64_t first_ = 0;              // events dropped from the front
  int fail_next_ = 0;
};

}  // namespace psc::eventlog
