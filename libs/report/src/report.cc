#include "psc/report/report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "psc/domain/aggregation.h"
#include "psc/domain/strings.h"
#include "psc/domain/timeliness.h"
#include "psc/domain/violations.h"
#include "psc/report/outstanding.h"
#include "psc/report/publication.h"
#include "psc/report/spc_chart.h"
#include "psc/spc/spc.h"

namespace psc::report {
namespace {

// Report order of the measure types; MEASURE_TYPE_UNSPECIFIED never passes
// catalogue validation and is not reported.
constexpr v1::MeasureType kTypeOrder[] = {v1::MEASURE_TYPE_INPUT, v1::MEASURE_TYPE_PROCESS,
                                          v1::MEASURE_TYPE_OUTCOME, v1::MEASURE_TYPE_BALANCING};

// Sums of one area over a quarter.
struct AreaQuarter {
  // Every organisation-month of the quarter: the figure for SUM and RATIO,
  // and the coverage for every rule.
  Sums months;
  // Each organisation's latest month in the quarter: the figure for LAST.
  Sums last;
};

void FillFigure(const v1::Measure& measure, int64_t numerator, int64_t denominator,
                int64_t reported, int64_t on_time, int64_t expected, v1::Figure* out) {
  const bool has_denominator = HasDenominator(measure);
  out->set_numerator(numerator);
  out->set_denominator(has_denominator ? denominator : 0);
  if (auto value = DisplayValue(measure, numerator, denominator, reported > 0)) {
    out->set_value(*value);
  }
  out->mutable_coverage()->set_reported(reported);
  out->mutable_coverage()->set_expected(expected);
  out->mutable_coverage()->set_on_time(on_time);
}

void FillQuarterFigure(const v1::Measure& measure, const AreaQuarter& sums, int64_t expected,
                       v1::Figure* out) {
  const Sums& figure = measure.aggregation() == v1::AGGREGATION_LAST ? sums.last : sums.months;
  FillFigure(measure, figure.numerator, figure.denominator, sums.months.reported,
             sums.months.on_time, expected, out);
}

bool IsFunnelMeasure(const v1::Measure& measure) {
  return measure.aggregation() == v1::AGGREGATION_RATIO && HasDenominator(measure);
}

absl::Status FillFunnel(const v1::Measure& measure, int64_t national_numerator,
                        int64_t national_denominator, const std::vector<spc::FunnelUnit>& units,
                        v1::Funnel* f) {
  const auto model = measure.unit() == v1::UNIT_PROPORTION ? spc::FunnelModel::kProportion
                                                           : spc::FunnelModel::kRate;
  auto funnel = spc::BuildFunnel(model, DisplayFactor(measure), national_numerator,
                                 national_denominator, units);
  if (!funnel.ok()) return funnel.status();
  f->set_model(std::string(spc::Name(funnel->model)));
  f->set_centre(funnel->centre);
  f->set_display_factor(funnel->display_factor);
  for (const spc::FunnelPoint& p : funnel->units) {
    v1::FunnelUnit* u = f->add_units();
    u->set_id(p.id);
    u->set_numerator(p.numerator);
    u->set_denominator(p.denominator);
    u->set_value(p.value);
    u->set_lower_95(p.band95.lower);
    u->set_upper_95(p.band95.upper);
    u->set_lower_998(p.band998.lower);
    u->set_upper_998(p.band998.upper);
    u->set_position_95(std::string(spc::Name(p.band95.position)));
    u->set_position_998(std::string(spc::Name(p.band998.position)));
  }
  return absl::OkStatus();
}

void BuildMeasure(const projection::View& view, const std::vector<v1::Learning>& learning,
                  const v1::Measure& measure, Quarter quarter,
                  v1::MeasureReport* out) {
  const Catalogue& catalogue = view.catalogue();
  const Month first = quarter.FirstMonth();
  const Month last = quarter.LastMonth();

  std::map<std::string, AreaQuarter, std::less<>> areas;
  if (const projection::MeasureAggregates* agg = view.Aggregates(measure.id())) {
    for (auto m = agg->months.lower_bound(first.index());
         m != agg->months.end() && m->first <= last.index(); ++m) {
      for (const auto& [collaborative, sums] : m->second) areas[collaborative].months += sums;
    }
    if (auto q = agg->quarters_last.find(quarter.index()); q != agg->quarters_last.end()) {
      for (const auto& [collaborative, sums] : q->second) areas[collaborative].last += sums;
    }
  }

  // The nation is every area with values, whether listed below or not.
  AreaQuarter national;
  for (const auto& [_, sums] : areas) {
    national.months += sums.months;
    national.last += sums.last;
  }
  *out->mutable_measure() = measure;
  FillQuarterFigure(measure, national, catalogue.EnrolledOrgMonths(measure.id(), "", first, last),
                    out->mutable_national());

  // Collaboratives enrolled in some month of the quarter, plus any holding
  // values (the log cannot hold values without an enrolment, but a figure
  // that exists is never hidden).
  std::set<std::string, std::less<>> listed;
  for (const std::string& c : catalogue.CollaborativesEnrolledIn(measure.id())) {
    if (catalogue.EnrolledOrgMonths(measure.id(), c, first, last) > 0) listed.insert(c);
  }
  for (const auto& [c, _] : areas) listed.insert(c);
  static const AreaQuarter kNothing;
  for (const std::string& c : listed) {
    auto* area = out->add_collaboratives();
    area->set_collaborative_id(c);
    auto it = areas.find(c);
    FillQuarterFigure(measure, it == areas.end() ? kNothing : it->second,
                      catalogue.EnrolledOrgMonths(measure.id(), c, first, last),
                      area->mutable_figure());
  }

  // The national monthly series up to the quarter's end, charted.
  if (view.Aggregates(measure.id()) != nullptr) {
    v1::GetSeriesRequest series;
    series.set_measure_id(measure.id());
    series.set_to_month(last.ToString());
    auto chart = BuildSpcChart(view, series, &learning);
    if (chart.ok() && chart->summary().points() > 0) {
      *out->mutable_spc() = chart->summary();
      *out->mutable_spc_points() = std::move(*chart->mutable_points());
      *out->mutable_spc_segments() = std::move(*chart->mutable_segments());
      *out->mutable_chart_learning() = std::move(*chart->mutable_learning());
    }
  }

  // Ratio measures: the collaboratives against the national rate.
  if (IsFunnelMeasure(measure) && out->national().denominator() > 0) {
    std::vector<spc::FunnelUnit> units;
    for (const v1::AreaFigure& area : out->collaboratives()) {
      if (area.figure().denominator() <= 0) continue;
      units.push_back({area.collaborative_id(), area.figure().numerator(),
                       area.figure().denominator()});
    }
    FillFunnel(measure, out->national().numerator(), out->national().denominator(), units,
               out->mutable_funnel())
        .IgnoreError();  // valid by construction: positive denominators, sums of valid rows
  }
}

// Each collaborative's latest sign-off, with the figures that differ now.
absl::Status AddSignOffs(const projection::View& view, Quarter quarter,
                         v1::QuarterlyReport& report) {
  auto sign_offs = view.SignOffs(quarter);
  if (!sign_offs.ok()) return sign_offs.status();
  if (sign_offs->empty()) return absl::OkStatus();
  // (measure, collaborative) -> the figure now.
  std::map<std::pair<std::string, std::string>, const v1::Figure*> now;
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        for (const auto& a : m.collaboratives()) {
          now[{m.measure().id(), a.collaborative_id()}] = &a.figure();
        }
      }
    }
  }
  for (const projection::SignedOffQuarter& s : *sign_offs) {
    const v1::QuarterSignedOff& event = s.envelope.quarter_signed_off();
    v1::SignOff* out = report.add_sign_offs();
    out->set_collaborative_id(event.collaborative_id());
    out->set_sign_off_id(event.sign_off_id());
    out->set_position(s.position.value());
    out->set_as_of_position(event.as_of_position());
    *out->mutable_signed_off_at() = s.envelope.recorded_at();
    out->set_principal(s.envelope.principal());
    std::vector<v1::Revision> revisions;
    std::set<std::string> signed_measures;
    for (const v1::SignedOffFigure& f : event.figures()) {
      signed_measures.insert(f.measure_id());
      const v1::Figure before = FigureOf(f);
      auto it = now.find({f.measure_id(), event.collaborative_id()});
      CompareFigures(f.measure_id(), event.collaborative_id(), &before,
                     it == now.end() ? nullptr : it->second, revisions);
    }
    for (const auto& [key, figure] : now) {
      if (key.second == event.collaborative_id() && signed_measures.count(key.first) == 0) {
        CompareFigures(key.first, key.second, nullptr, figure, revisions);
      }
    }
    for (auto& r : revisions) *out->add_revisions() = std::move(r);
  }
  return absl::OkStatus();
}

// The latest publication before this report, with what has changed since.
absl::Status AddPublicationNote(const projection::View& view, Quarter quarter,
                                v1::QuarterlyReport& report) {
  auto latest = view.LatestPublication(quarter);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return absl::OkStatus();
  const v1::QuarterPublished& p = (*latest)->envelope.quarter_published();
  v1::QuarterlyReport published;
  if (!published.ParseFromString(p.report())) {
    return absl::DataLossError(StrCat("publication ", p.publication_id(), ": undecodable report"));
  }
  v1::PublicationNote* note = report.mutable_publication();
  note->set_publication_id(p.publication_id());
  note->set_position((*latest)->position.value());
  note->set_as_of_position(p.as_of_position());
  for (auto& r : Revisions(published, report)) *note->add_revisions() = std::move(r);
  return absl::OkStatus();
}

// Outstanding returns of each month of the quarter.
absl::Status AddOutstanding(const projection::View& view, Quarter quarter,
                            v1::QuarterlyReport& report) {
  std::vector<Month> months;
  for (Month m = quarter.FirstMonth(); m <= quarter.LastMonth(); m = m.Plus(1)) months.push_back(m);
  auto returns = BuildOutstandingReturns(view, months);
  if (!returns.ok()) return returns.status();
  for (auto& r : *returns) *report.add_outstanding() = std::move(r);
  return absl::OkStatus();
}

}  // namespace

v1::LearningItem LearningItemOf(const v1::Learning& l) {
  v1::LearningItem item;
  item.set_learning_id(l.learning_id());
  item.set_kind(l.kind());
  item.set_month(l.month());
  item.set_title(l.title());
  // A shared learning always has a title: without one, its text is gone.
  item.set_text_erased(l.title().empty());
  *item.mutable_measure_ids() = l.measure_ids();
  item.set_collaborative_id(l.collaborative_id());
  return item;
}

// The quarter's learning: summarised by collaborative and topic, and listed
// beside each measure it is linked to.
void AddLearning(const std::vector<v1::Learning>& all, Quarter quarter,
                 v1::QuarterlyReport& report) {
  std::vector<v1::LearningItem> items;
  for (const v1::Learning& l : all) {
    auto month = Month::Parse(l.month());
    if (!month || *month < quarter.FirstMonth() || *month > quarter.LastMonth()) continue;
    items.push_back(LearningItemOf(l));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return std::tie(a.month(), a.learning_id()) < std::tie(b.month(), b.learning_id());
  });
  std::map<std::pair<std::string, std::string>, v1::LearningSummary> summaries;
  std::map<std::string, std::vector<const v1::LearningItem*>> by_measure;
  std::map<std::string, std::string> topic_of;
  for (const v1::Learning& l : all) topic_of[l.learning_id()] = l.topic_id();
  for (const v1::LearningItem& item : items) {
    v1::LearningSummary& s = summaries[{item.collaborative_id(), topic_of[item.learning_id()]}];
    s.set_collaborative_id(item.collaborative_id());
    s.set_topic_id(topic_of[item.learning_id()]);
    switch (item.kind()) {
      case v1::LEARNING_KIND_CASE_STUDY: s.set_case_studies(s.case_studies() + 1); break;
      case v1::LEARNING_KIND_STORY: s.set_stories(s.stories() + 1); break;
      case v1::LEARNING_KIND_INNOVATIVE_PRACTICE:
        s.set_innovative_practice(s.innovative_practice() + 1);
        break;
      case v1::LEARNING_KIND_WHAT_DID_NOT_WORK:
        s.set_what_did_not_work(s.what_did_not_work() + 1);
        break;
      default: break;
    }
    *s.add_items() = item;
    for (const auto& m : item.measure_ids()) by_measure[m].push_back(&item);
  }
  for (auto& [_, s] : summaries) *report.add_learning() = std::move(s);
  for (auto& type : *report.mutable_types()) {
    for (auto& topic : *type.mutable_topics()) {
      for (auto& m : *topic.mutable_measures()) {
        auto it = by_measure.find(m.measure().id());
        if (it == by_measure.end()) continue;
        for (const v1::LearningItem* item : it->second) *m.add_learning() = *item;
      }
    }
  }
}

absl::StatusOr<v1::QuarterlyReport> BuildQuarterlyReport(const projection::View& view,
                                                         Quarter quarter) {
  if (quarter.number() < 1 || quarter.number() > 4 ||
      quarter.FirstMonth().year() < Month::kMinYear ||
      quarter.LastMonth().year() > Month::kMaxYear) {
    return InvalidField("quarter", "OUT_OF_RANGE",
                        StrCat("quarter ", quarter.ToString(), " has months outside the years ",
                               Month::kMinYear, "..", Month::kMaxYear, " the service accepts"));
  }
  const Catalogue& catalogue = view.catalogue();
  v1::QuarterlyReport report;
  report.set_quarter(quarter.ToString());
  report.set_first_month(quarter.FirstMonth().ToString());
  report.set_last_month(quarter.LastMonth().ToString());
  report.set_as_of_position(view.position().value());

  // Read once: the quarter's learning and every chart's markers.
  auto learning = view.Learning();
  if (!learning.ok()) return learning.status();

  // type -> topic id -> measures (the catalogue's map is sorted by id).
  std::map<int, std::map<std::string, std::vector<const v1::Measure*>>> grouped;
  for (const auto& [_, measure] : catalogue.measures()) {
    grouped[measure.type()][measure.topic_id()].push_back(&measure);
  }
  for (v1::MeasureType type : kTypeOrder) {
    auto t = grouped.find(type);
    if (t == grouped.end()) continue;
    v1::TypeReport* type_report = report.add_types();
    type_report->set_type(type);
    for (const auto& [topic_id, measures] : t->second) {
      v1::TopicReport* topic_report = type_report->add_topics();
      if (const v1::Topic* topic = catalogue.FindTopic(topic_id)) {
        *topic_report->mutable_topic() = *topic;
      } else {
        topic_report->mutable_topic()->set_id(topic_id);
      }
      for (const v1::Measure* measure : measures) {
        BuildMeasure(view, *learning, *measure, quarter, topic_report->add_measures());
      }
    }
  }
  for (const auto& [_, collaborative] : catalogue.collaboratives()) {
    *report.add_collaboratives() = collaborative;
  }
  AddLearning(*learning, quarter, report);
  if (auto s = AddSignOffs(view, quarter, report); !s.ok()) return s;
  if (auto s = AddOutstanding(view, quarter, report); !s.ok()) return s;
  if (auto s = AddPublicationNote(view, quarter, report); !s.ok()) return s;
  return report;
}

absl::StatusOr<v1::Funnel> BuildFunnelPlot(const projection::View& view,
                                           const v1::GetFunnelRequest& request) {
  Violations violations;
  if (request.measure_id().empty()) {
    violations.Add("measure_id", "REQUIRED", "a measure id is required");
  }
  auto quarter = Quarter::Parse(request.quarter());
  if (!quarter) {
    violations.Add("quarter", "INVALID_QUARTER",
                   StrCat(Quote(request.quarter()), " is not like 2024/25 Q1"));
  }
  if (!violations.empty()) return violations.ToStatus("invalid funnel request");
  const Catalogue& catalogue = view.catalogue();
  const v1::Measure* measure = catalogue.FindMeasure(request.measure_id());
  if (measure == nullptr) {
    return absl::NotFoundError(StrCat("measure ", Quote(request.measure_id()), " is not defined"));
  }
  if (!IsFunnelMeasure(*measure)) {
    return InvalidField("measure_id", "NOT_A_RATIO",
                        StrCat("measure ", Quote(measure->id()),
                               " is not a proportion or rate: funnel plots compare ratios"));
  }
  const std::string& collaborative = request.collaborative_id();
  if (!collaborative.empty() && catalogue.FindCollaborative(collaborative) == nullptr) {
    return absl::NotFoundError(
        StrCat("collaborative ", Quote(collaborative), " is not registered"));
  }
  const Month first = quarter->FirstMonth();
  const Month last = quarter->LastMonth();
  Sums national;
  std::map<std::string, Sums, std::less<>> areas;
  if (const projection::MeasureAggregates* agg = view.Aggregates(measure->id())) {
    for (auto m = agg->months.lower_bound(first.index());
         m != agg->months.end() && m->first <= last.index(); ++m) {
      for (const auto& [c, sums] : m->second) {
        national += sums;
        areas[c] += sums;
      }
    }
  }
  if (national.denominator <= 0) {
    return absl::FailedPreconditionError(
        StrCat(measure->id(), " has no denominator reported nationally in ", quarter->ToString()));
  }
  std::vector<spc::FunnelUnit> units;
  if (collaborative.empty()) {
    for (const auto& [c, sums] : areas) {
      if (sums.denominator > 0) units.push_back({c, sums.numerator, sums.denominator});
    }
  } else {
    // Each organisation's months of the quarter in the collaborative.
    for (const auto& [ods, _] : catalogue.organisations()) {
      bool member = false;
      for (Month m = first; m <= last; m = m.Plus(1)) {
        const std::string* c = catalogue.CollaborativeOf(ods, m);
        member = member || (c != nullptr && *c == collaborative);
      }
      if (!member) continue;
      auto observations = view.Observations(measure->id(), ods, first, last);
      if (!observations.ok()) return observations.status();
      spc::FunnelUnit unit{ods, 0, 0};
      for (const projection::StoredObservation& o : *observations) {
        const std::string* c = catalogue.CollaborativeOf(ods, o.month);
        if (c == nullptr || *c != collaborative) continue;
        unit.numerator += o.numerator;
        unit.denominator += o.denominator.value_or(0);
      }
      if (unit.denominator > 0) units.push_back(std::move(unit));
    }
  }
  v1::Funnel out;
  if (auto s = FillFunnel(*measure, national.numerator, national.denominator, units, &out);
      !s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<v1::Series> BuildSeries(const projection::View& view,
                                       const v1::GetSeriesRequest& request) {
  Violations violations;
  if (request.measure_id().empty()) {
    violations.Add("measure_id", "REQUIRED", "a measure id is required");
  }
  if (request.scope_case() == v1::GetSeriesRequest::kCollaborativeId &&
      request.collaborative_id().empty()) {
    violations.Add("collaborative_id", "REQUIRED",
                   "set but empty: leave the scope unset for the national series");
  }
  if (request.scope_case() == v1::GetSeriesRequest::kOdsCode && request.ods_code().empty()) {
    violations.Add("ods_code", "REQUIRED",
                   "set but empty: leave the scope unset for the national series");
  }
  auto parse_month = [&](const std::string& text, const char* field) -> std::optional<Month> {
    if (text.empty()) return std::nullopt;
    auto month = Month::Parse(text);
    if (!month) {
      violations.Add(field, "MALFORMED_MONTH",
                     StrCat(Quote(text), " is not a month YYYY-MM (", Month::kMinYear, "..",
                            Month::kMaxYear, ")"));
    }
    return month;
  };
  std::optional<Month> from = parse_month(request.from_month(), "from_month");
  std::optional<Month> to = parse_month(request.to_month(), "to_month");
  if (from && to && *from > *to) {
    violations.Add("from_month", "INVALID_RANGE",
                   StrCat("from_month ", request.from_month(), " is after to_month ",
                          request.to_month()));
  }
  if (!violations.empty()) return violations.ToStatus("invalid series request");

  const Catalogue& catalogue = view.catalogue();
  const v1::Measure* measure = catalogue.FindMeasure(request.measure_id());
  if (measure == nullptr) {
    return absl::NotFoundError(StrCat("measure ", Quote(request.measure_id()), " is not defined"));
  }
  const std::string& collaborative = request.collaborative_id();
  const std::string& ods = request.ods_code();
  const bool by_collaborative = request.scope_case() == v1::GetSeriesRequest::kCollaborativeId;
  const bool by_organisation = request.scope_case() == v1::GetSeriesRequest::kOdsCode;
  if (by_collaborative && catalogue.FindCollaborative(collaborative) == nullptr) {
    return absl::NotFoundError(
        StrCat("collaborative ", Quote(collaborative), " is not registered"));
  }
  if (by_organisation && catalogue.FindOrganisation(ods) == nullptr) {
    return absl::NotFoundError(StrCat("organisation ", Quote(ods), " is not registered"));
  }

  // The scope's monthly sums, by month index, for the months that could be
  // in the range.
  std::map<int, Sums> by_month;
  if (by_organisation) {
    auto observations = view.Observations(
        measure->id(), ods, from.value_or(Month::FromYearMonth(Month::kMinYear, 1)),
        to.value_or(Month::FromYearMonth(Month::kMaxYear, 12)));
    if (!observations.ok()) return observations.status();
    for (const projection::StoredObservation& o : *observations) {
      const bool on_time =
          o.first_recorded_ms <
          std::chrono::duration_cast<std::chrono::milliseconds>(
              OnTimeDeadline(*measure, o.month).time_since_epoch())
              .count();
      by_month[o.month.index()] = Sums{o.numerator, o.denominator.value_or(0), 1, on_time ? 1 : 0};
    }
  } else if (const projection::MeasureAggregates* agg = view.Aggregates(measure->id());
             agg != nullptr && !by_collaborative) {
    // The national series is kept summed over collaboratives.
    for (const auto& [month, sums] : agg->national_months) {
      if (from && month < from->index()) continue;
      if (to && month > to->index()) break;
      by_month[month] = sums;
    }
    std::erase_if(by_month, [](const auto& entry) { return entry.second.reported == 0; });
  } else if (agg != nullptr) {
    for (const auto& [month, areas] : agg->months) {
      if (from && month < from->index()) continue;
      if (to && month > to->index()) break;
      for (const auto& [c, sums] : areas) {
        if (by_collaborative && c != collaborative) continue;
        by_month[month] += sums;
      }
    }
    std::erase_if(by_month, [](const auto& entry) { return entry.second.reported == 0; });
  }

  v1::Series series;
  *series.mutable_measure() = *measure;
  if (by_collaborative) series.set_collaborative_id(collaborative);
  if (by_organisation) series.set_ods_code(ods);
  series.set_as_of_position(view.position().value());

  if (!from && !by_month.empty()) from = Month::FromIndex(by_month.begin()->first);
  if (!to && !by_month.empty()) to = Month::FromIndex(by_month.rbegin()->first);
  if (!from || !to || *from > *to) return series;

  for (Month m = *from; m <= *to; m = m.Plus(1)) {
    v1::SeriesPoint* point = series.add_points();
    point->set_month(m.ToString());
    int64_t expected = 0;
    if (by_organisation) {
      expected = catalogue.IsEnrolled(ods, measure->id(), m) ? 1 : 0;
    } else {
      expected = catalogue.EnrolledOrgMonths(measure->id(), by_collaborative ? collaborative : "",
                                             m, m);
    }
    auto it = by_month.find(m.index());
    const Sums sums = it == by_month.end() ? Sums{} : it->second;
    FillFigure(*measure, sums.numerator, sums.denominator, sums.reported, sums.on_time, expected,
               point->mutable_figure());
  }
  return series;
}

}  // namespace psc::report
