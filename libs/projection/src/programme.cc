#include "psc/projection/programme.h"

#include <set>

#include "psc/domain/aggregation.h"

namespace psc::projection {

absl::StatusOr<ProgrammeFigures> ProgrammeOf(const View& view) {
  ProgrammeFigures out;
  const Catalogue& catalogue = view.catalogue();
  for (const auto& [id, collaborative] : catalogue.collaboratives()) out.areas[id];

  out.month = view.LatestReportedMonth();
  if (out.month) {
    const Month month = *out.month;
    for (const auto& [measure_id, measure] : catalogue.measures()) {
      for (auto& [id, area] : out.areas) {
        area.values_expected += catalogue.EnrolledOrgMonths(measure_id, id, month, month);
      }
      const MeasureAggregates* agg = view.Aggregates(measure_id);
      if (agg == nullptr) continue;
      if (auto m = agg->months.find(month.index()); m != agg->months.end()) {
        for (const auto& [collaborative, sums] : m->second) {
          if (auto a = out.areas.find(collaborative); a != out.areas.end()) {
            a->second.values_reported += sums.reported;
          }
        }
      }
    }
    std::map<std::string, std::set<std::string, std::less<>>> enrolled;
    for (const auto& [key, spans] : catalogue.enrolments()) {
      const std::string& ods = key.second;
      for (const MonthSpan& span : spans) {
        if (!span.Contains(month)) continue;
        if (const std::string* c = catalogue.CollaborativeOf(ods, month)) enrolled[*c].insert(ods);
        break;
      }
    }
    for (const auto& [collaborative, orgs] : enrolled) {
      if (auto a = out.areas.find(collaborative); a != out.areas.end()) {
        a->second.organisations_enrolled = static_cast<int64_t>(orgs.size());
      }
    }
    if (const auto* reporting = view.Reporting(month)) {
      for (const auto& [ods, values] : *reporting) {
        const std::string* c = catalogue.CollaborativeOf(ods, month);
        if (c == nullptr) continue;
        if (auto a = out.areas.find(*c); a != out.areas.end()) ++a->second.organisations_reporting;
      }
    }
  }

  for (const auto& [measure_id, measure] : catalogue.measures()) {
    const MeasureAggregates* agg = view.Aggregates(measure_id);
    if (agg == nullptr) continue;
    for (auto m = agg->months.rbegin(); m != agg->months.rend(); ++m) {
      Sums total;
      for (const auto& [collaborative, sums] : m->second) total += sums;
      auto value = DisplayValue(measure, total.numerator, total.denominator, total.reported > 0);
      if (!value) continue;
      out.national[measure_id] = {Month::FromIndex(m->first), *value};
      break;
    }
  }

  auto learning = view.Learning();
  if (!learning.ok()) return learning.status();
  for (const v1::Learning& item : *learning) ++out.learning_by_topic[item.topic_id()];
  return out;
}

}  // namespace psc::projection
