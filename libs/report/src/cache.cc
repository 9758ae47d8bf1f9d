#include "psc/report/cache.h"

#include <algorithm>

#include "psc/report/report.h"

namespace psc::report {

absl::StatusOr<std::shared_ptr<const v1::QuarterlyReport>> ReportCache::Get(
    const projection::View& view, Quarter quarter) {
  const uint64_t position = view.position().value();
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(quarter.index());
    if (it != entries_.end() && it->second.position == position) {
      it->second.used = ++tick_;
      ++hits_;
      return it->second.report;
    }
  }
  auto built = BuildQuarterlyReport(view, quarter);
  if (!built.ok()) return built.status();
  auto report = std::make_shared<const v1::QuarterlyReport>(std::move(*built));
  std::lock_guard lock(mu_);
  ++builds_;
  Entry& entry = entries_[quarter.index()];
  // A slower build at an older position never replaces a newer report.
  if (!entry.report || entry.position <= position) {
    entry.position = position;
    entry.report = report;
  }
  entry.used = ++tick_;
  while (entries_.size() > capacity_) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.used < b.second.used;
    });
    entries_.erase(oldest);
  }
  return report;
}

uint64_t ReportCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t ReportCache::builds() const {
  std::lock_guard lock(mu_);
  return builds_;
}

}  // namespace psc::report
