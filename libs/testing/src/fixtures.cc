#include "psc/testing/fixtures.h"

namespace psc::testing {

v1::CatalogueChanged SmallCatalogue(const std::string& change_id) {
  v1::CatalogueChanged c;
  c.set_change_id(change_id);
  auto topic = [&](const char* id, const char* name, bool essential) {
    auto* t = c.add_topics();
    t->set_id(id);
    t->set_name(name);
    t->set_essential(essential);
  };
  topic("falls", "Falls", false);
  topic("deterioration", "Deterioration of the patient", false);
  topic("safety-culture", "Safety culture and leadership", true);
  auto collab = [&](const char* id, const char* name) {
    auto* x = c.add_collaboratives();
    x->set_id(id);
    x->set_name(name);
  };
  collab("wessex", "Wessex");
  collab("oxford", "Oxford");
  auto org = [&](const char* ods, const char* name, v1::Sector sector, const char* collab_id) {
    auto* o = c.add_organisations();
    o->set_ods_code(ods);
    o->set_name(name);
    o->set_sector(sector);
    o->set_collaborative_id(collab_id);
  };
  org("RHM", "University Hospital Southampton", v1::SECTOR_ACUTE, "wessex");
  org("RDZ", "University Hospitals Dorset", v1::SECTOR_ACUTE, "wessex");
  org("RTH", "Oxford University Hospitals", v1::SECTOR_ACUTE, "oxford");
  org("R1A", "Oxford Health Community", v1::SECTOR_COMMUNITY, "oxford");
  auto measure = [&](const char* id, const char* name, const char* topic_id, v1::MeasureType type,
                     v1::Unit unit, int64_t rate_per, v1::Aggregation agg, v1::Direction dir,
                     const char* den_label) {
    auto* m = c.add_measures();
    m->set_id(id);
    m->set_name(name);
    m->set_topic_id(topic_id);
    m->set_type(type);
    m->set_unit(unit);
    m->set_rate_per(rate_per);
    m->set_aggregation(agg);
    m->set_improvement(dir);
    m->set_numerator_label("count");
    m->set_denominator_label(den_label);
  };
  measure("falls-harm-rate.v1", "Falls with harm per 1,000 bed days", "falls",
          v1::MEASURE_TYPE_OUTCOME, v1::UNIT_RATE, 1000, v1::AGGREGATION_RATIO,
          v1::DIRECTION_DOWN, "occupied bed days");
  measure("falls-count.v1", "Inpatient falls", "falls", v1::MEASURE_TYPE_OUTCOME, v1::UNIT_COUNT,
          0, v1::AGGREGATION_SUM, v1::DIRECTION_DOWN, "");
  measure("news2-on-time.v1", "NEWS2 observations on time", "deterioration",
          v1::MEASURE_TYPE_PROCESS, v1::UNIT_PROPORTION, 0, v1::AGGREGATION_RATIO,
          v1::DIRECTION_UP, "observations due");
  measure("staff-trained.v1", "Staff trained in safety culture to date", "safety-culture",
          v1::MEASURE_TYPE_INPUT, v1::UNIT_COUNT, 0, v1::AGGREGATION_LAST, v1::DIRECTION_UP, "");
  measure("cc-admissions.v1", "Unplanned critical care admissions", "deterioration",
          v1::MEASURE_TYPE_BALANCING, v1::UNIT_COUNT, 0, v1::AGGREGATION_SUM,
          v1::DIRECTION_NEITHER, "");
  for (const char* ods : {"RHM", "RDZ", "RTH", "R1A"}) {
    for (const char* m : {"falls-harm-rate.v1", "falls-count.v1", "news2-on-time.v1",
                          "staff-trained.v1", "cc-admissions.v1"}) {
      if (std::string(ods) == "R1A" && std::string(m) == "news2-on-time.v1") continue;
      auto* e = c.add_enrolments();
      e->set_ods_code(ods);
      e->set_measure_id(m);
      e->set_from_month("2024-01");
      if (std::string(ods) == "RTH" && std::string(m) == "falls-count.v1") {
        e->set_to_month("2024-06");
      }
    }
  }
  return c;
}

v1::Observation Obs(const std::string& ods, const std::string& measure, const std::string& month,
                    int64_t numerator, std::optional<int64_t> denominator) {
  v1::Observation o;
  o.set_ods_code(ods);
  o.set_measure_id(measure);
  o.set_month(month);
  o.set_numerator(numerator);
  if (denominator) o.set_denominator(*denominator);
  return o;
}

v1::ObservationsSubmitted Batch(const std::string& submission_id,
                                std::vector<v1::Observation> rows) {
  v1::ObservationsSubmitted b;
  b.set_submission_id(submission_id);
  for (auto& r : rows) *b.add_rows() = std::move(r);
  return b;
}

namespace {
v1::Envelope BaseEnvelope() {
  v1::Envelope e;
  e.set_event_id("0123456789abcdef0123456789abcdef");
  e.mutable_recorded_at()->set_seconds(1'730'000'000);  // 2024-10-27
  e.set_principal("test");
  return e;
}
}  // namespace

std::string EventOf(const v1::CatalogueChanged& change) {
  v1::Envelope e = BaseEnvelope();
  *e.mutable_catalogue_changed() = change;
  return e.SerializeAsString();
}

std::string EventOf(const v1::ObservationsSubmitted& batch) {
  v1::Envelope e = BaseEnvelope();
  *e.mutable_observations_submitted() = batch;
  return e.SerializeAsString();
}

std::string EventOf(const v1::ObservationsSubmitted& batch, int64_t recorded_unix_seconds,
                    const std::string& principal) {
  v1::Envelope e = BaseEnvelope();
  e.mutable_recorded_at()->set_seconds(recorded_unix_seconds);
  e.set_principal(principal);
  *e.mutable_observations_submitted() = batch;
  return e.SerializeAsString();
}

std::string EventOf(const v1::ObservationsWithdrawn& withdrawal) {
  v1::Envelope e = BaseEnvelope();
  *e.mutable_observations_withdrawn() = withdrawal;
  return e.SerializeAsString();
}

std::string EventOf(const v1::QuarterSignedOff& sign_off) {
  v1::Envelope e = BaseEnvelope();
  *e.mutable_quarter_signed_off() = sign_off;
  return e.SerializeAsString();
}

std::string EventOf(const v1::SpcLimitsChanged& change, const std::string& principal) {
  v1::Envelope e = BaseEnvelope();
  e.set_principal(principal);
  *e.mutable_spc_limits_changed() = change;
  return e.SerializeAsString();
}

v1::ObservationsWithdrawn Withdrawal(const std::string& id, std::vector<v1::ObservationKey> keys,
                                     const std::string& reason) {
  v1::ObservationsWithdrawn w;
  w.set_withdrawal_id(id);
  for (auto& k : keys) *w.add_keys() = std::move(k);
  w.set_reason(reason);
  return w;
}

v1::ObservationKey Key(const std::string& ods, const std::string& measure,
                       const std::string& month) {
  v1::ObservationKey k;
  k.set_ods_code(ods);
  k.set_measure_id(measure);
  k.set_month(month);
  return k;
}

v1::Learning LearningOf(const std::string& id, const std::string& collaborative,
                        const std::string& topic, const std::string& month) {
  v1::Learning l;
  l.set_learning_id(id);
  l.set_collaborative_id(collaborative);
  l.set_topic_id(topic);
  l.set_kind(v1::LEARNING_KIND_CASE_STUDY);
  l.set_month(month);
  l.set_title("Safety huddles on two wards");
  l.set_summary("Daily huddles at shift change.");
  l.set_outcome("Fewer falls with harm.");
  return l;
}

std::string EventOf(const v1::Learning& learning) {
  v1::Envelope e = BaseEnvelope();
  *e.mutable_learning_shared()->mutable_learning() = learning;
  return e.SerializeAsString();
}

}  // namespace psc::testing
