#include "psc/report/outstanding.h"

#include <chrono>
#include <map>

#include "psc/domain/strings.h"
#include "psc/domain/timeliness.h"
#include "psc/domain/violations.h"

namespace psc::report {

namespace {

// ODS code -> the measures it is enrolled in for a month, sorted.
using EnrolledByOds = std::map<std::string_view, std::vector<std::string_view>>;

// The enrolments of each of `months`, in one walk of the catalogue's
// enrolments (keyed (measure, ods): measures come out sorted).
std::vector<EnrolledByOds> EnrolledIn(const Catalogue& catalogue, const std::vector<Month>& months) {
  std::vector<EnrolledByOds> out(months.size());
  for (const auto& [key, spans] : catalogue.enrolments()) {
    const auto& [measure_id, ods] = key;
    for (size_t i = 0; i < months.size(); ++i) {
      bool enrolled = false;
      for (const auto& span : spans) enrolled = enrolled || span.Contains(months[i]);
      if (enrolled) out[i][ods].push_back(measure_id);
    }
  }
  return out;
}

absl::StatusOr<v1::OutstandingReturns> ReturnsOf(const projection::View& view, Month month,
                                                 const std::string& only,
                                                 const EnrolledByOds& enrolled_by_ods) {
  const Catalogue& catalogue = view.catalogue();
  struct Area {
    v1::CollaborativeReturns returns;
    std::map<std::string, std::vector<std::string>> missing;  // ods -> measures
  };
  std::map<std::string, Area> areas;
  // Each measure's on-time deadline for the month, worked out once (by the
  // catalogue's ids, which outlive the walk).
  std::map<std::string_view, int64_t> deadlines;
  auto deadline_of = [&](std::string_view measure_id) {
    auto it = deadlines.find(measure_id);
    if (it != deadlines.end()) return it->second;
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           OnTimeDeadline(*catalogue.FindMeasure(measure_id), month)
                               .time_since_epoch())
                           .count();
    return deadlines.emplace(measure_id, ms).first->second;
  };
  // One read per organisation: its values of the month, in measure order,
  // walked beside the measures it is enrolled in.
  for (const auto& [ods, measures] : enrolled_by_ods) {
    const std::string* collaborative = catalogue.CollaborativeOf(ods, month);
    if (collaborative == nullptr || (!only.empty() && *collaborative != only)) continue;
    Area& area = areas[*collaborative];
    area.returns.set_expected(area.returns.expected() + static_cast<int64_t>(measures.size()));
    std::vector<std::string>* missing = nullptr;
    auto add_missing = [&](std::string_view measure_id) {
      if (missing == nullptr) missing = &area.missing[std::string(ods)];
      missing->emplace_back(measure_id);
    };
    size_t next = 0;
    int64_t reported = 0, on_time = 0;
    auto walked = view.ForEachValue(
        ods, month, [&](std::string_view measure_id, const projection::StoredObservation& value) {
          while (next < measures.size() && measures[next] < measure_id) add_missing(measures[next++]);
          if (next == measures.size() || measures[next] != measure_id) return;
          // The catalogue's id: `measure_id` is gone after this call.
          const std::string_view enrolled = measures[next++];
          ++reported;
          if (value.first_recorded_ms < deadline_of(enrolled)) ++on_time;
        });
    if (!walked.ok()) return walked;
    while (next < measures.size()) add_missing(measures[next++]);
    area.returns.set_reported(area.returns.reported() + reported);
    area.returns.set_on_time(area.returns.on_time() + on_time);
  }

  v1::OutstandingReturns out;
  out.set_month(month.ToString());
  out.set_as_of_position(view.position().value());
  for (auto& [id, area] : areas) {
    v1::CollaborativeReturns* returns = out.add_collaboratives();
    *returns = std::move(area.returns);
    returns->set_collaborative_id(id);
    for (auto& [ods, measures] : area.missing) {
      v1::OutstandingOrganisation* org = returns->add_outstanding();
      org->set_ods_code(ods);
      if (const v1::Organisation* o = catalogue.FindOrganisation(ods)) org->set_name(o->name());
      for (auto& m : measures) org->add_measure_ids(std::move(m));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::OutstandingReturns> BuildOutstandingReturns(
    const projection::View& view, const v1::ListOutstandingReturnsRequest& request) {
  auto month = Month::Parse(request.month());
  if (!month) {
    return InvalidField("month", "MALFORMED_MONTH",
                        StrCat(Quote(request.month()), " is not a month YYYY-MM"));
  }
  const std::string& only = request.collaborative_id();
  if (!only.empty() && view.catalogue().FindCollaborative(only) == nullptr) {
    return absl::NotFoundError(StrCat("collaborative ", Quote(only), " is not registered"));
  }
  return ReturnsOf(view, *month, only, EnrolledIn(view.catalogue(), {*month}).front());
}

absl::StatusOr<std::vector<v1::OutstandingReturns>> BuildOutstandingReturns(
    const projection::View& view, const std::vector<Month>& months) {
  const std::vector<EnrolledByOds> enrolled = EnrolledIn(view.catalogue(), months);
  std::vector<v1::OutstandingReturns> out;
  for (size_t i = 0; i < months.size(); ++i) {
    auto returns = ReturnsOf(view, months[i], "", enrolled[i]);
    if (!returns.ok()) return returns.status();
    out.push_back(std::move(*returns));
  }
  return out;
}

}  // namespace psc::report
