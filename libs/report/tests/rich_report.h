// A quarterly report built by hand with every part the renderers show: SPC
// points with a rebase and a special cause, changes marked on a chart, a
// funnel, a measure without data, learning, outstanding returns, sign-offs
// and a publication. The SPC limits are given, not computed: renderers
// draw what the report says.
#pragma once

#include <string>
#include <vector>

#include "psc/domain/aggregation.h"
#include "psc/domain/clock.h"
#include "psc/domain/period.h"
#include "psc/spc/spc.h"
#include "psc/v1/query.pb.h"

namespace psc::report::testing {

inline v1::Measure RichMeasure(const std::string& id, const std::string& name,
                               const std::string& topic, v1::MeasureType type, v1::Unit unit,
                               int64_t rate_per, v1::Aggregation aggregation,
                               v1::Direction direction, const std::string& denominator_label) {
  v1::Measure m;
  m.set_id(id);
  m.set_name(name);
  m.set_topic_id(topic);
  m.set_type(type);
  m.set_unit(unit);
  m.set_rate_per(rate_per);
  m.set_aggregation(aggregation);
  m.set_improvement(direction);
  m.set_numerator_label(unit == v1::UNIT_COUNT ? "falls" : "events");
  m.set_denominator_label(denominator_label);
  return m;
}

inline void RichFigure(v1::Figure* f, const v1::Measure& m, int64_t numerator, int64_t denominator,
                       int64_t reported, int64_t expected, int64_t on_time) {
  f->set_numerator(numerator);
  f->set_denominator(denominator);
  if (auto v = DisplayValue(m, numerator, denominator, reported > 0)) f->set_value(*v);
  f->mutable_coverage()->set_reported(reported);
  f->mutable_coverage()->set_expected(expected);
  f->mutable_coverage()->set_on_time(on_time);
}

inline void RichArea(v1::MeasureReport* mr, const std::string& id, int64_t numerator,
                     int64_t denominator, int64_t reported, int64_t expected, int64_t on_time) {
  auto* area = mr->add_collaboratives();
  area->set_collaborative_id(id);
  RichFigure(area->mutable_figure(), mr->measure(), numerator, denominator, reported, expected,
             on_time);
}

inline v1::SpcPoint* RichPoint(v1::MeasureReport* mr, const std::string& month, double value,
                               int segment, double mean, double lower, double upper) {
  v1::SpcPoint* p = mr->add_spc_points();
  p->set_month(month);
  p->set_value(value);
  p->set_segment(segment);
  p->set_mean(mean);
  p->set_lower_process_limit(lower);
  p->set_upper_process_limit(upper);
  p->set_lower_near_limit(mean - (mean - lower) * 2 / 3);
  p->set_upper_near_limit(mean + (upper - mean) * 2 / 3);
  return p;
}

inline v1::LearningItem RichLearning(const std::string& id, v1::LearningKind kind,
                                     const std::string& month, const std::string& title,
                                     const std::string& measure, const std::string& collaborative) {
  v1::LearningItem item;
  item.set_learning_id(id);
  item.set_kind(kind);
  item.set_month(month);
  item.set_title(title);
  item.add_measure_ids(measure);
  item.set_collaborative_id(collaborative);
  return item;
}

inline v1::QuarterlyReport RichReport() {
  v1::QuarterlyReport r;
  r.set_quarter("2024/25 Q4");
  r.set_first_month("2025-01");
  r.set_last_month("2025-03");
  r.set_as_of_position(42);

  // PROCESS / deterioration: a proportion nobody has reported yet.
  {
    auto* type = r.add_types();
    type->set_type(v1::MEASURE_TYPE_PROCESS);
    auto* topic = type->add_topics();
    topic->mutable_topic()->set_id("deterioration");
    topic->mutable_topic()->set_name("Deterioration of the patient");
    auto* mr = topic->add_measures();
    *mr->mutable_measure() = RichMeasure(
        "news2-on-time.v1", "NEWS2 observations on time", "deterioration", v1::MEASURE_TYPE_PROCESS,
        v1::UNIT_PROPORTION, 0, v1::AGGREGATION_RATIO, v1::DIRECTION_UP, "observations due");
    RichFigure(mr->mutable_national(), mr->measure(), 0, 0, 0, 6, 0);
    RichArea(mr, "oxford", 0, 0, 0, 3, 0);
    RichArea(mr, "wessex", 0, 0, 0, 3, 0);
  }

  auto* type = r.add_types();
  type->set_type(v1::MEASURE_TYPE_OUTCOME);
  auto* topic = type->add_topics();
  topic->mutable_topic()->set_id("falls");
  topic->mutable_topic()->set_name("Falls");

  // falls-count.v1, per enrolled organisation, lower is better. Segment 0:
  // Apr 2023 - Jun 2024 (15 points, 5 and 6 alternating: mean 5.5, limits
  // 2.84 to 8.16). Segment 1 from the rebase in Jul 2024 (no value in Nov
  // 2024): mean 4, limits 2 to 6, trial; Mar 2025 at 1.5 is below the lower
  // limit: an improvement.
  {
    auto* mr = topic->add_measures();
    *mr->mutable_measure() = RichMeasure("falls-count.v1", "Inpatient falls <all wards>", "falls",
                                         v1::MEASURE_TYPE_OUTCOME, v1::UNIT_COUNT, 0,
                                         v1::AGGREGATION_SUM, v1::DIRECTION_DOWN, "");
    RichFigure(mr->mutable_national(), mr->measure(), 33, 0, 10, 12, 7);
    RichArea(mr, "oxford", 12, 0, 4, 6, 4);
    RichArea(mr, "wessex", 21, 0, 6, 6, 3);
    Month m = Month::FromYearMonth(2023, 4);
    for (int i = 0; i < 15; ++i, m = m.Plus(1)) {
      RichPoint(mr, m.ToString(), i % 2 == 0 ? 5.0 : 6.0, 0, 5.5, 2.84, 8.16);
    }
    for (double v : {4.0, 4.5, 4.0, 4.5, -1.0, 4.0, 4.5, 4.0, 1.5}) {
      if (v >= 0) RichPoint(mr, m.ToString(), v, 1, 4.0, 2.0, 6.0);
      m = m.Plus(1);
    }
    v1::SpcPoint* last = mr->mutable_spc_points(mr->spc_points_size() - 1);
    last->set_special_cause("outside_limits");
    last->set_classification("improvement");

    v1::SpcSegment* s0 = mr->add_spc_segments();
    s0->set_first_month("2023-04");
    s0->set_last_month("2024-06");
    s0->set_points(15);
    s0->set_base_points(15);
    s0->set_mean(5.5);
    s0->set_lower_process_limit(2.84);
    s0->set_upper_process_limit(8.16);
    v1::SpcSegment* s1 = mr->add_spc_segments();
    s1->set_first_month("2024-07");
    s1->set_last_month("2025-03");
    s1->set_points(8);
    s1->set_base_points(8);
    s1->set_trial_limits(true);
    s1->set_mean(4.0);
    s1->set_lower_process_limit(2.0);
    s1->set_upper_process_limit(6.0);
    s1->set_rebase_reason("New falls policy");
    s1->set_rebase_author("A. Analyst");

    v1::SpcSummary* spc = mr->mutable_spc();
    spc->set_points(23);
    spc->set_variation("improvement_low");
    spc->set_assurance("none");
    spc->set_mean(4.0);
    spc->set_lower_process_limit(2.0);
    spc->set_upper_process_limit(6.0);
    spc->set_trial_limits(true);
    spc->set_per_organisation(true);

    *mr->add_chart_learning() =
        RichLearning("l-huddles", v1::LEARNING_KIND_CASE_STUDY, "2024-07",
                     "Falls huddles & \"safety crosses\"", "falls-count.v1", "wessex");
    *mr->add_chart_learning() =
        RichLearning("l-rails", v1::LEARNING_KIND_WHAT_DID_NOT_WORK, "2025-01", "Bed rails audit",
                     "falls-count.v1", "oxford");
    *mr->add_learning() = mr->chart_learning(1);
  }

  // falls-harm-rate.v1 per 1,000 bed days, target 1.5: six months of
  // common cause (trial limits), and the funnel of the quarter: nationally
  // 40 / 20,000 = 2 per 1,000; wessex 35 / 10,000 = 3.5 lies above the
  // 99.8% limit at its denominator (3.38), kss 1 / 8,000 = 0.125 below
  // (0.455); oxford 4 / 2,000 = 2 on the centre.
  {
    auto* mr = topic->add_measures();
    *mr->mutable_measure() =
        RichMeasure("falls-harm-rate.v1", "Falls with harm per 1,000 bed days", "falls",
                    v1::MEASURE_TYPE_OUTCOME, v1::UNIT_RATE, 1000, v1::AGGREGATION_RATIO,
                    v1::DIRECTION_DOWN, "occupied bed days");
    mr->mutable_measure()->set_target(1.5);
    RichFigure(mr->mutable_national(), mr->measure(), 40, 20000, 9, 9, 9);
    RichArea(mr, "kss", 1, 8000, 3, 3, 3);
    RichArea(mr, "oxford", 4, 2000, 3, 3, 3);
    RichArea(mr, "wessex", 35, 10000, 3, 3, 3);
    Month m = Month::FromYearMonth(2024, 10);
    for (double v : {1.2, 1.4, 1.3, 1.25, 1.35, 1.3}) {
      RichPoint(mr, m.ToString(), v, 0, 1.3, 0.9, 1.7);
      m = m.Plus(1);
    }
    v1::SpcSegment* s = mr->add_spc_segments();
    s->set_first_month("2024-10");
    s->set_last_month("2025-03");
    s->set_points(6);
    s->set_base_points(6);
    s->set_trial_limits(true);
    s->set_mean(1.3);
    s->set_lower_process_limit(0.9);
    s->set_upper_process_limit(1.7);
    v1::SpcSummary* spc = mr->mutable_spc();
    spc->set_points(6);
    spc->set_variation("common_cause");
    spc->set_assurance("inconsistent");
    spc->set_mean(1.3);
    spc->set_lower_process_limit(0.9);
    spc->set_upper_process_limit(1.7);
    spc->set_trial_limits(true);

    std::vector<spc::FunnelUnit> units = {
        {"kss", 1, 8000}, {"oxford", 4, 2000}, {"wessex", 35, 10000}};
    auto funnel = spc::BuildFunnel(spc::FunnelModel::kRate, 1000, 40, 20000, units);
    v1::Funnel* f = mr->mutable_funnel();
    f->set_model("rate");
    f->set_centre(funnel->centre);
    f->set_display_factor(1000);
    for (const auto& u : funnel->units) {
      v1::FunnelUnit* fu = f->add_units();
      fu->set_id(u.id);
      fu->set_numerator(u.numerator);
      fu->set_denominator(u.denominator);
      fu->set_value(u.value);
      fu->set_lower_95(u.band95.lower);
      fu->set_upper_95(u.band95.upper);
      fu->set_lower_998(u.band998.lower);
      fu->set_upper_998(u.band998.upper);
      fu->set_position_95(std::string(spc::Name(u.band95.position)));
      fu->set_position_998(std::string(spc::Name(u.band998.position)));
    }
  }

  for (auto [id, name] : std::vector<std::pair<std::string, std::string>>{
           {"kss", "Kent Surrey Sussex"}, {"oxford", "Oxford"}, {"wessex", "Wessex & <Isle>"}}) {
    auto* c = r.add_collaboratives();
    c->set_id(id);
    c->set_name(name);
  }

  v1::LearningSummary* learning = r.add_learning();
  learning->set_collaborative_id("oxford");
  learning->set_topic_id("falls");
  learning->set_what_did_not_work(1);
  *learning->add_items() = r.types(1).topics(0).measures(0).chart_learning(1);

  // Oxford signed off at 11:15 BST on 3 April 2025, nothing changed since;
  // wessex's rate moved from 3.4 to 3.5 per 1,000 after it signed off.
  v1::SignOff* oxford = r.add_sign_offs();
  oxford->set_collaborative_id("oxford");
  oxford->set_sign_off_id("oxford-q4");
  oxford->set_position(38);
  oxford->set_as_of_position(37);
  oxford->mutable_signed_off_at()->set_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                                   UtcTime(2025, 4, 3, 10, 15).time_since_epoch())
                                                   .count());
  oxford->set_principal("oxford-lead");
  v1::SignOff* wessex = r.add_sign_offs();
  wessex->set_collaborative_id("wessex");
  wessex->set_sign_off_id("wessex-q4");
  wessex->set_position(39);
  wessex->set_as_of_position(39);
  wessex->set_principal("wessex-lead");
  for (auto [field, before, after] : std::vector<std::tuple<std::string, double, double>>{
           {"numerator", 34, 35}, {"value", 3.4, 3.5}}) {
    v1::Revision* rev = wessex->add_revisions();
    rev->set_measure_id("falls-harm-rate.v1");
    rev->set_area("wessex");
    rev->set_field(field);
    rev->set_published(before);
    rev->set_current(after);
  }

  for (const char* month : {"2025-01", "2025-02", "2025-03"}) {
    v1::OutstandingReturns* o = r.add_outstanding();
    o->set_month(month);
    o->set_as_of_position(42);
    v1::CollaborativeReturns* ox = o->add_collaboratives();
    ox->set_collaborative_id("oxford");
    ox->set_expected(4);
    ox->set_reported(4);
    ox->set_on_time(4);
    v1::CollaborativeReturns* wx = o->add_collaboratives();
    wx->set_collaborative_id("wessex");
    wx->set_expected(6);
    wx->set_reported(std::string(month) == "2025-03" ? 4 : 6);
    wx->set_on_time(3);
    if (std::string(month) == "2025-03") {
      v1::OutstandingOrganisation* org = wx->add_outstanding();
      org->set_ods_code("RDZ");
      org->set_name("University Hospitals Dorset");
      org->add_measure_ids("falls-count.v1");
      org->add_measure_ids("news2-on-time.v1");
    }
  }

  v1::PublicationNote* publication = r.mutable_publication();
  publication->set_publication_id("q4-first");
  publication->set_position(41);
  publication->set_as_of_position(40);
  return r;
}

}  // namespace psc::report::testing
