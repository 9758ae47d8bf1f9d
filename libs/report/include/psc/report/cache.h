// The quarterly reports last built, each at the position it was built at.
//
// A report is a function of the log position alone (DESIGN: same position,
// same bytes; no clock), so a call at the position of a report already
// built is answered with that report instead of building it again: on a
// quiet server every reader of a quarter after the first costs a lookup.
// While events are applied every call sees a new position and builds.
//
// Thread-safe. Concurrent misses for the same position may each build;
// the result is the same report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/projection/read_model.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

class ReportCache {
 public:
  // Keeps the reports of at most `quarters` quarters (the least recently
  // asked for goes first).
  explicit ReportCache(size_t quarters = 8) : capacity_(quarters) {}

  // BuildQuarterlyReport(view, quarter), shared. Errors are not kept.
  absl::StatusOr<std::shared_ptr<const v1::QuarterlyReport>> Get(const projection::View& view,
                                                                Quarter quarter);

  // Calls answered from a report already built, and reports built.
  uint64_t hits() const;
  uint64_t builds() const;

 private:
  struct Entry {
    uint64_t position = 0;
    std::shared_ptr<const v1::QuarterlyReport> report;
    uint64_t used = 0;  // tick of the last Get
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<int, Entry> entries_;  // by quarter index
  uint64_t tick_ = 0;
  uint64_t hits_ = 0;
  uint64_t builds_ = 0;
};

}  // namespace psc::report
