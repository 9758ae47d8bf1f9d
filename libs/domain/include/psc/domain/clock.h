// Time, injected. Every date boundary of the programme (the current month,
// deadlines after month end) is taken in Europe/London, whose rules since
// 1996 are: GMT, and BST (UTC+1) from 01:00 UTC on the last Sunday of March
// to 01:00 UTC on the last Sunday of October.
#pragma once

#include <atomic>
#include <chrono>

#include "google/protobuf/timestamp.pb.h"
#include "psc/domain/period.h"

namespace psc {

using TimePoint = std::chrono::system_clock::time_point;

// Source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The machine's real-time clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

// A clock that says what it is told: for tests, and for replaying a
// programme at a chosen date.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint now) : now_(now.time_since_epoch().count()) {}
  TimePoint Now() const override {
    return TimePoint(TimePoint::duration(now_.load(std::memory_order_relaxed)));
  }
  void Set(TimePoint now) { now_.store(now.time_since_epoch().count()); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

// A wall-clock date and time in Europe/London.
struct LondonTime {
  int year = 0;
  int month = 0;   // 1..12
  int day = 0;     // 1..31
  int hour = 0;    // 0..23
  int minute = 0;
  int second = 0;
  bool summer_time = false;  // BST in force
};

// Converts an instant to Europe/London wall-clock time.
LondonTime ToLondon(TimePoint t);
// The month in force in Europe/London at `t`.
Month LondonMonth(TimePoint t);
// The instant London's wall clock shows 00:00 on day `day` (1-based, may run
// past the month end) of month `m`.
TimePoint LondonMidnight(Month m, int day);
// A UTC instant from calendar fields, for tests and fixtures.
TimePoint UtcTime(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

// `t` as a protobuf Timestamp (UTC, nanoseconds kept), as events record it.
google::protobuf::Timestamp ToTimestamp(TimePoint t);

}  // namespace psc
