#include "catalogue_data.h"

namespace psc::demo::internal {

unsigned SectorBit(v1::Sector sector) {
  switch (sector) {
    case v1::SECTOR_ACUTE:
      return kAcute;
    case v1::SECTOR_COMMUNITY:
      return kCommunity;
    case v1::SECTOR_MENTAL_HEALTH:
      return kMentalHealth;
    case v1::SECTOR_AMBULANCE:
      return kAmbulance;
    default:
      return 0;
  }
}

const std::vector<TopicSpec>& Topics() {
  static const std::vector<TopicSpec> topics = {
      {"deterioration", "Deterioration of the patient", false},
      {"maternity-neonatal", "Maternity and neonatal safety", false},
      {"medicines-safety", "Medicines safety", false},
      {"mental-health", "Mental health: reducing restrictive practice", false},
      {"falls", "Inpatient falls", false},
      // An essential of the national programme: every collaborative works on it.
      {"safety-culture", "Safety culture and leadership", true},
  };
  return topics;
}

const std::vector<CollaborativeSpec>& Collaboratives() {
  static const std::vector<CollaborativeSpec> collaboratives = {
      {"eastern", "Health Innovation East", "East of England"},
      {"east-midlands", "Health Innovation East Midlands", "East Midlands"},
      {"manchester", "Health Innovation Manchester", "Greater Manchester"},
      {"south-london", "Health Innovation Network South London", "South London"},
      {"imperial", "Imperial College Health Partners", "North West London"},
      {"north-west-coast", "Innovation Agency", "North West Coast"},
      {"kent-surrey-sussex", "Health Innovation Kent Surrey Sussex", "Kent Surrey Sussex"},
      {"north-east-cumbria", "Health Innovation North East and North Cumbria",
       "North East and Cumbria"},
      {"oxford", "Health Innovation Oxford and Thames Valley", "Thames Valley"},
      {"south-west", "Health Innovation South West", "South West Peninsula"},
      {"wessex", "Health Innovation Wessex", "Wessex"},
      {"west-midlands", "Health Innovation West Midlands", "West Midlands"},
      {"west-of-england", "Health Innovation West of England", "West of England"},
      {"yorkshire-humber", "Health Innovation Yorkshire and Humber", "Yorkshire and Humber"},
      {"uclpartners", "UCLPartners", "North Central and East London"},
  };
  return collaboratives;
}

namespace {

using v1::AGGREGATION_LAST;
using v1::AGGREGATION_RATIO;
using v1::AGGREGATION_SUM;
using v1::DIRECTION_DOWN;
using v1::DIRECTION_NEITHER;
using v1::DIRECTION_UP;
using v1::MEASURE_TYPE_BALANCING;
using v1::MEASURE_TYPE_INPUT;
using v1::MEASURE_TYPE_OUTCOME;
using v1::MEASURE_TYPE_PROCESS;
using v1::UNIT_COUNT;
using v1::UNIT_PROPORTION;
using v1::UNIT_RATE;

constexpr double kNoTarget = -1;

}  // namespace

// Levels follow published national figures where there are any (falls with
// harm about 0.2 per 1,000 bed days, smoking at delivery about 9%, major
// haemorrhage about 30 per 1,000 births); the rest are plausible.
const std::vector<MeasureSpec>& Measures() {
  static const std::vector<MeasureSpec> measures = {
      // Deterioration.
      {"news2-on-time.v1", "NEWS2 observations recorded on time", "deterioration",
       MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "observation sets recorded on time", "observation sets audited", 95, 15, kAcute | kCommunity,
       Model::kProportion, Volume::kBedDays, 0.02, 0.72, 0.88, 0.10},
      {"news2-escalation.v1", "Patients with NEWS2 of 5 or more escalated within 1 hour",
       "deterioration", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients escalated to a clinician within 1 hour", "patients with NEWS2 of 5 or more", 90,
       15, kAcute | kCommunity | kMentalHealth, Model::kProportion, Volume::kBedDays, 0.006, 0.60,
       0.80, 0.12},
      {"sepsis-abx-1h.v1", "Sepsis: antibiotics within 1 hour of a red flag", "deterioration",
       MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients given antibiotics within 1 hour", "patients with red flag sepsis", 90, 15, kAcute,
       Model::kProportion, Volume::kAdmissions, 0.012, 0.55, 0.80, 0.12},
      {"amb-sepsis-screen.v1", "Suspected sepsis screened with NEWS2 by ambulance crews",
       "deterioration", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients screened on scene", "patients conveyed with suspected sepsis", 90, 20, kAmbulance,
       Model::kProportion, Volume::kIncidents, 0.01, 0.65, 0.85, 0.10},
      {"cardiac-arrest-rate.v1", "In-hospital cardiac arrests per 1,000 admissions",
       "deterioration", MEASURE_TYPE_OUTCOME, UNIT_RATE, 1000, AGGREGATION_RATIO, DIRECTION_DOWN,
       "cardiac arrests (2222 calls)", "adult admissions", 1.0, 20, kAcute, Model::kRate,
       Volume::kAdmissions, 1.0, 0.8, 1.6, -0.20},
      {"critical-care-unplanned-rate.v1", "Unplanned critical care admissions per 1,000 admissions",
       "deterioration", MEASURE_TYPE_BALANCING, UNIT_RATE, 1000, AGGREGATION_RATIO,
       DIRECTION_NEITHER, "unplanned admissions to critical care", "adult admissions", kNoTarget,
       20, kAcute, Model::kRate, Volume::kAdmissions, 1.0, 2.0, 4.0, 0},
      {"deterioration-trained.v1", "Staff trained in recognising and responding to deterioration",
       "deterioration", MEASURE_TYPE_INPUT, UNIT_COUNT, 0, AGGREGATION_LAST, DIRECTION_UP,
       "clinical staff trained to date", "", kNoTarget, 15, kAllSectors, Model::kCumulativeCount,
       Volume::kStaff, 0.5, 0.05, 0.20, 0.025},

      // Maternity and neonatal: acute trusts only.
      {"smoking-at-delivery.v1", "Smoking at time of delivery", "maternity-neonatal",
       MEASURE_TYPE_OUTCOME, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_DOWN,
       "women known to smoke at time of delivery", "maternities", 6, 30, kAcute, Model::kProportion,
       Volume::kBirths, 1.0, 0.07, 0.13, -0.025},
      {"pph-1500-rate.v1", "Obstetric haemorrhage of 1,500 ml or more per 1,000 births",
       "maternity-neonatal", MEASURE_TYPE_OUTCOME, UNIT_RATE, 1000, AGGREGATION_RATIO,
       DIRECTION_DOWN, "haemorrhages of 1,500 ml or more", "births", kNoTarget, 30, kAcute,
       Model::kRate, Volume::kBirths, 1.0, 22, 40, -0.20},
      {"precept-mgso4.v1", "Babies born under 30 weeks exposed to antenatal magnesium sulphate",
       "maternity-neonatal", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO,
       DIRECTION_UP, "babies whose mothers received magnesium sulphate",
       "babies born under 30 weeks", 85, 30, kAcute, Model::kProportion, Volume::kBirths, 0.01,
       0.65, 0.85, 0.10},

      // Medicines safety.
      {"omitted-critical-doses.v1", "Omitted or delayed critical medicines", "medicines-safety",
       MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_DOWN,
       "critical doses omitted or delayed", "critical doses audited", 5, 15,
       kAcute | kCommunity | kMentalHealth, Model::kProportion, Volume::kBedDays, 0.012, 0.08, 0.16,
       -0.04},
      {"med-rec-24h.v1", "Medicines reconciled within 24 hours of admission", "medicines-safety",
       MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients with medicines reconciled within 24 hours", "admissions audited", 80, 15,
       kAcute | kMentalHealth, Model::kProportion, Volume::kBedDays, 0.01, 0.55, 0.75, 0.10},
      {"med-harm-rate.v1", "Medication incidents causing harm per 10,000 occupied bed days",
       "medicines-safety", MEASURE_TYPE_OUTCOME, UNIT_RATE, 10000, AGGREGATION_RATIO,
       DIRECTION_DOWN, "medication incidents with moderate or severe harm", "occupied bed days",
       kNoTarget, 20, kAcute | kCommunity | kMentalHealth, Model::kRate, Volume::kBedDays, 1.0, 2.0,
       6.0, -0.25},

      // Mental health: mental health trusts only.
      {"restrictive-practice-rate.v1", "Restrictive practice episodes per 1,000 occupied bed days",
       "mental-health", MEASURE_TYPE_OUTCOME, UNIT_RATE, 1000, AGGREGATION_RATIO, DIRECTION_DOWN,
       "episodes of restraint, seclusion or rapid tranquillisation", "occupied bed days", kNoTarget,
       20, kMentalHealth, Model::kRate, Volume::kBedDays, 1.0, 12, 30, -0.25},
      {"prone-restraint.v1", "Prone restraint episodes", "mental-health", MEASURE_TYPE_OUTCOME,
       UNIT_COUNT, 0, AGGREGATION_SUM, DIRECTION_DOWN, "prone restraint episodes", "", kNoTarget,
       20, kMentalHealth, Model::kCount, Volume::kBedDays, 1.0, 0.001, 0.003, -0.35},
      {"restraint-debrief.v1", "Restraint episodes followed by a debrief within 72 hours",
       "mental-health", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "episodes with a patient debrief within 72 hours", "restraint episodes", 90, 20,
       kMentalHealth, Model::kProportion, Volume::kBedDays, 0.01, 0.40, 0.70, 0.20},

      // Falls.
      {"falls-harm-rate.v1",
       "Inpatient falls with moderate or severe harm per 1,000 occupied bed days", "falls",
       MEASURE_TYPE_OUTCOME, UNIT_RATE, 1000, AGGREGATION_RATIO, DIRECTION_DOWN,
       "falls with moderate or severe harm", "occupied bed days", 0.15, 15,
       kAcute | kCommunity | kMentalHealth, Model::kRate, Volume::kBedDays, 1.0, 0.12, 0.30, -0.25},
      {"falls-count.v1", "Inpatient falls", "falls", MEASURE_TYPE_OUTCOME, UNIT_COUNT, 0,
       AGGREGATION_SUM, DIRECTION_DOWN, "inpatient falls reported", "", kNoTarget, 15,
       kAcute | kCommunity | kMentalHealth, Model::kCount, Volume::kBedDays, 1.0, 0.004, 0.008,
       -0.15},
      {"falls-mfra.v1",
       "Patients aged 65 and over with a multifactorial falls risk assessment within 24 hours",
       "falls", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients assessed within 24 hours", "patients aged 65 and over admitted (audited)", 90, 15,
       kAcute | kCommunity | kMentalHealth, Model::kProportion, Volume::kBedDays, 0.005, 0.50, 0.75,
       0.15},
      {"lying-standing-bp.v1", "Lying and standing blood pressure recorded (aged 65 and over)",
       "falls", MEASURE_TYPE_PROCESS, UNIT_PROPORTION, 0, AGGREGATION_RATIO, DIRECTION_UP,
       "patients with lying and standing blood pressure recorded",
       "patients aged 65 and over audited", 80, 15, kAcute | kCommunity, Model::kProportion,
       Volume::kBedDays, 0.004, 0.30, 0.55, 0.20},

      // Safety culture and leadership: every sector.
      {"safety-culture-trained.v1", "Staff trained in safety culture and human factors",
       "safety-culture", MEASURE_TYPE_INPUT, UNIT_COUNT, 0, AGGREGATION_LAST, DIRECTION_UP,
       "staff trained to date", "", kNoTarget, 15, kAllSectors, Model::kCumulativeCount,
       Volume::kStaff, 1.0, 0.02, 0.10, 0.015},
      {"safety-huddles.v1", "Clinical teams holding a daily safety huddle", "safety-culture",
       MEASURE_TYPE_INPUT, UNIT_PROPORTION, 0, AGGREGATION_LAST, DIRECTION_UP,
       "teams holding a daily safety huddle", "clinical teams", 80, 15, kAllSectors,
       Model::kCumulativeProportion, Volume::kTeams, 1.0, 0.10, 0.35, 0.025},
      // Balancing: more reporting usually means a more open culture, not
      // less safe care, so higher is read as better.
      {"incident-reporting-rate.v1",
       "Patient safety incidents reported per 1,000 occupied bed days", "safety-culture",
       MEASURE_TYPE_BALANCING, UNIT_RATE, 1000, AGGREGATION_RATIO, DIRECTION_UP,
       "patient safety incidents reported", "occupied bed days", kNoTarget, 15,
       kAcute | kCommunity | kMentalHealth, Model::kRate, Volume::kBedDays, 1.0, 35, 70, 0.10},
  };
  return measures;
}

v1::Measure ToProto(const MeasureSpec& spec) {
  v1::Measure m;
  m.set_id(spec.id);
  m.set_name(spec.name);
  m.set_topic_id(spec.topic_id);
  m.set_type(spec.type);
  m.set_unit(spec.unit);
  m.set_rate_per(spec.rate_per);
  m.set_aggregation(spec.aggregation);
  m.set_improvement(spec.improvement);
  m.set_numerator_label(spec.numerator_label);
  m.set_denominator_label(spec.denominator_label);
  if (spec.target >= 0) m.set_target(spec.target);
  m.set_on_time_days(spec.on_time_days);
  return m;
}

}  // namespace psc::demo::internal
