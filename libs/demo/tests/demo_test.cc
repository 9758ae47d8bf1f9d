#include "psc/demo/demo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "psc/domain/catalogue.h"
#include "psc/domain/ids.h"
#include "psc/domain/nhs_number.h"
#include "psc/domain/sha256.h"
#include "psc/domain/strings.h"
#include "psc/domain/validation.h"

namespace psc::demo {
namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // (ods, measure, month)
using OrgMonth = std::pair<std::string, std::string>;

Key KeyOf(const v1::Observation& row) { return {row.ods_code(), row.measure_id(), row.month()}; }

std::string Bytes(const DemoRequest& r) {
  std::string out = r.resend ? "R" : "-";
  if (r.observations) out += "O" + r.observations->SerializeAsString();
  if (r.learning) out += "L" + r.learning->SerializeAsString();
  return out;
}

// Everything a dataset holds, in order, as one SHA-256.
std::string Digest(const DemoData& d) {
  std::string all = StrCat(d.rows, "/", d.distinct_observations, "/");
  const std::string catalogue = d.catalogue.SerializeAsString();
  StrAppend(&all, catalogue.size(), ":", catalogue);
  for (const auto& r : d.requests) {
    const std::string bytes = Bytes(r);
    StrAppend(&all, bytes.size(), ":", bytes);
  }
  return Sha256Hex(all);
}

// One dataset with the default options, shared by the tests that only read it.
class DemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new DemoData(Generate());
    catalogue_ = new Catalogue();
    ASSERT_TRUE(catalogue_->Check(data_->catalogue).ok());
    catalogue_->Apply(data_->catalogue);
  }
  static void TearDownTestSuite() {
    delete data_;
    delete catalogue_;
  }
  static const DemoData& data() { return *data_; }
  static const Catalogue& catalogue() { return *catalogue_; }
  static const DemoOptions& options() {
    static const DemoOptions defaults;
    return defaults;
  }
  static Month Current() { return options().first_month.Plus(options().months); }

  static DemoData* data_;
  static Catalogue* catalogue_;
};

DemoData* DemoTest::data_ = nullptr;
Catalogue* DemoTest::catalogue_ = nullptr;

TEST_F(DemoTest, CatalogueHasTheProgrammeShape) {
  const v1::CatalogueChanged& c = data().catalogue;
  EXPECT_EQ(c.change_id(), "demo-catalogue-1");
  EXPECT_TRUE(Catalogue().Check(c).ok()) << Catalogue().Check(c);

  std::set<std::string> collaboratives;
  for (const auto& x : c.collaboratives()) collaboratives.insert(x.id());
  EXPECT_EQ(
      collaboratives,
      (std::set<std::string>{"eastern", "east-midlands", "manchester", "south-london", "imperial",
                             "north-west-coast", "kent-surrey-sussex", "north-east-cumbria",
                             "oxford", "south-west", "wessex", "west-midlands", "west-of-england",
                             "yorkshire-humber", "uclpartners"}));
  EXPECT_EQ(catalogue().FindCollaborative("manchester")->name(), "Health Innovation Manchester");
  EXPECT_EQ(catalogue().FindCollaborative("north-west-coast")->name(), "Innovation Agency");

  std::set<std::string> topics;
  for (const auto& t : c.topics()) topics.insert(t.id());
  EXPECT_EQ(topics,
            (std::set<std::string>{"deterioration", "maternity-neonatal", "medicines-safety",
                                   "mental-health", "falls", "safety-culture"}));
  EXPECT_TRUE(catalogue().FindTopic("safety-culture")->essential());
  EXPECT_FALSE(catalogue().FindTopic("falls")->essential());

  EXPECT_EQ(c.organisations_size(), 15 * 22);
  EXPECT_GE(c.organisations_size(), 300);
  EXPECT_GE(c.measures_size(), 20);
  EXPECT_LE(c.measures_size(), 25);

  std::set<v1::MeasureType> types;
  std::set<v1::Unit> units;
  std::set<v1::Aggregation> aggregations;
  std::set<v1::Direction> directions;
  std::set<int64_t> rate_pers;
  int targets = 0;
  for (const auto& m : c.measures()) {
    types.insert(m.type());
    units.insert(m.unit());
    aggregations.insert(m.aggregation());
    directions.insert(m.improvement());
    if (m.unit() == v1::UNIT_RATE) rate_pers.insert(m.rate_per());
    if (m.has_target()) ++targets;
    EXPECT_FALSE(m.numerator_label().empty()) << m.id();
    EXPECT_EQ(m.denominator_label().empty(), m.unit() == v1::UNIT_COUNT) << m.id();
    if (m.unit() == v1::UNIT_COUNT && m.aggregation() != v1::AGGREGATION_LAST) {
      EXPECT_EQ(m.aggregation(), v1::AGGREGATION_SUM) << m.id();
    }
    if (m.unit() != v1::UNIT_COUNT && m.aggregation() != v1::AGGREGATION_LAST) {
      EXPECT_EQ(m.aggregation(), v1::AGGREGATION_RATIO) << m.id();
    }
    if (m.aggregation() == v1::AGGREGATION_LAST) {
      EXPECT_EQ(m.type(), v1::MEASURE_TYPE_INPUT) << m.id();
    }
  }
  EXPECT_EQ(types,
            (std::set<v1::MeasureType>{v1::MEASURE_TYPE_INPUT, v1::MEASURE_TYPE_PROCESS,
                                       v1::MEASURE_TYPE_OUTCOME, v1::MEASURE_TYPE_BALANCING}));
  EXPECT_EQ(units, (std::set<v1::Unit>{v1::UNIT_COUNT, v1::UNIT_PROPORTION, v1::UNIT_RATE}));
  EXPECT_EQ(aggregations, (std::set<v1::Aggregation>{v1::AGGREGATION_SUM, v1::AGGREGATION_RATIO,
                                                     v1::AGGREGATION_LAST}));
  EXPECT_EQ(directions,
            (std::set<v1::Direction>{v1::DIRECTION_UP, v1::DIRECTION_DOWN, v1::DIRECTION_NEITHER}));
  EXPECT_EQ(rate_pers, (std::set<int64_t>{1000, 10000}));
  EXPECT_GE(targets, 5);

  const v1::Measure* news2 = catalogue().FindMeasure("news2-on-time.v1");
  ASSERT_NE(news2, nullptr);
  EXPECT_EQ(news2->type(), v1::MEASURE_TYPE_PROCESS);
  EXPECT_EQ(news2->unit(), v1::UNIT_PROPORTION);
  EXPECT_EQ(news2->improvement(), v1::DIRECTION_UP);
  const v1::Measure* arrests = catalogue().FindMeasure("cardiac-arrest-rate.v1");
  ASSERT_NE(arrests, nullptr);
  EXPECT_EQ(arrests->rate_per(), 1000);
  EXPECT_EQ(arrests->improvement(), v1::DIRECTION_DOWN);
}

TEST_F(DemoTest, OrganisationsAreSyntheticMixedAndUnique) {
  std::set<std::string> codes, names;
  std::map<v1::Sector, int> sectors;
  std::map<std::string, int> per_collaborative;
  for (const auto& o : data().catalogue.organisations()) {
    EXPECT_TRUE(IsValidOdsCode(o.ods_code())) << o.ods_code();
    EXPECT_EQ(o.ods_code()[0], 'R') << o.ods_code();
    EXPECT_EQ(o.ods_code().size(), 3u) << o.ods_code();
    EXPECT_TRUE(codes.insert(o.ods_code()).second) << "duplicate " << o.ods_code();
    EXPECT_TRUE(names.insert(o.name()).second) << "duplicate " << o.name();
    EXPECT_THAT(o.name(), ::testing::MatchesRegex(
                              ".* (Acute Trust|Community Health Trust|Mental Health Trust|"
                              "Ambulance Service) [0-9]+"));
    ++sectors[o.sector()];
    ++per_collaborative[o.collaborative_id()];
  }
  EXPECT_EQ(per_collaborative.size(), 15u);
  for (const auto& [id, n] : per_collaborative) EXPECT_EQ(n, 22) << id;
  const double total = data().catalogue.organisations_size();
  EXPECT_NEAR(sectors[v1::SECTOR_ACUTE] / total, 0.60, 0.05);
  EXPECT_NEAR(sectors[v1::SECTOR_COMMUNITY] / total, 0.15, 0.05);
  EXPECT_NEAR(sectors[v1::SECTOR_MENTAL_HEALTH] / total, 0.20, 0.05);
  EXPECT_NEAR(sectors[v1::SECTOR_AMBULANCE] / total, 0.05, 0.03);
  EXPECT_GT(sectors[v1::SECTOR_AMBULANCE], 0);
}

TEST_F(DemoTest, EnrolmentsFollowSectorsAndGrowOverTheFirstMonths) {
  const Month first = options().first_month;
  const Month last_join = first.Plus(6);
  std::map<std::string, int> per_org;
  std::set<std::string> from_months;
  int ended = 0;
  int applicable = 0;
  for (const auto& e : data().catalogue.enrolments()) {
    ++per_org[e.ods_code()];
    const Month from = *Month::Parse(e.from_month());
    EXPECT_GE(from, first);
    EXPECT_LE(from, last_join);
    from_months.insert(e.from_month());
    if (!e.to_month().empty()) {
      ++ended;
      EXPECT_GT(*Month::Parse(e.to_month()), from);
      EXPECT_LT(*Month::Parse(e.to_month()), first.Plus(options().months - 1));
    }
    const v1::Organisation* org = catalogue().FindOrganisation(e.ods_code());
    ASSERT_NE(org, nullptr);
    // Maternity is for acute trusts, restrictive practice for mental health.
    if (catalogue().FindMeasure(e.measure_id())->topic_id() == "maternity-neonatal") {
      EXPECT_EQ(org->sector(), v1::SECTOR_ACUTE) << e.ods_code() << " " << e.measure_id();
    }
    if (e.measure_id() == "restrictive-practice-rate.v1") {
      EXPECT_EQ(org->sector(), v1::SECTOR_MENTAL_HEALTH) << e.ods_code();
    }
  }
  // Every organisation reports something; enrolment opens over 7 months.
  EXPECT_EQ(per_org.size(), static_cast<size_t>(data().catalogue.organisations_size()));
  EXPECT_EQ(from_months.size(), 7u);
  const double share_ended = double(ended) / data().catalogue.enrolments_size();
  EXPECT_GT(share_ended, 0.005);
  EXPECT_LT(share_ended, 0.08);

  // About 70% of the measures applicable to each sector.
  std::map<v1::Sector, int> applicable_per_sector;
  for (const auto& m : data().catalogue.measures()) {
    for (v1::Sector s :
         {v1::SECTOR_ACUTE, v1::SECTOR_COMMUNITY, v1::SECTOR_MENTAL_HEALTH, v1::SECTOR_AMBULANCE}) {
      // A measure applies to a sector when some organisation of it enrolled.
      for (const auto& e : data().catalogue.enrolments()) {
        if (e.measure_id() == m.id() && catalogue().FindOrganisation(e.ods_code())->sector() == s) {
          ++applicable_per_sector[s];
          break;
        }
      }
    }
  }
  for (const auto& o : data().catalogue.organisations()) {
    applicable += applicable_per_sector[o.sector()];
  }
  const double share = double(data().catalogue.enrolments_size()) / applicable;
  EXPECT_NEAR(share, 0.70, 0.06);
}

TEST_F(DemoTest, EveryRequestPassesValidation) {
  int observations = 0, learning = 0;
  for (size_t i = 0; i < data().requests.size(); ++i) {
    const DemoRequest& r = data().requests[i];
    ASSERT_NE(r.observations.has_value(), r.learning.has_value()) << "request " << i;
    if (r.observations) {
      ++observations;
      const auto& b = *r.observations;
      const absl::Status s = ValidateObservations(catalogue(), b, b.ByteSizeLong(), Current());
      EXPECT_TRUE(s.ok()) << b.submission_id() << ": " << s;
    } else {
      ++learning;
      EXPECT_FALSE(r.resend);
      const absl::Status s = ValidateLearning(catalogue(), *r.learning, Current());
      EXPECT_TRUE(s.ok()) << r.learning->learning_id() << ": " << s;
    }
  }
  EXPECT_GT(observations, 7000);
  // 15 collaboratives x 8 quarters x 2.
  EXPECT_EQ(learning, 240);
}

TEST_F(DemoTest, NoMonthOutsideTheWindow) {
  const Month first = options().first_month;
  const Month last = first.Plus(options().months - 1);
  std::set<std::string> months;
  for (const auto& r : data().requests) {
    if (!r.observations) continue;
    for (const auto& row : r.observations->rows()) months.insert(row.month());
  }
  EXPECT_EQ(months.size(), 24u);
  EXPECT_EQ(*months.begin(), first.ToString());
  EXPECT_EQ(*months.rbegin(), last.ToString());
  EXPECT_EQ(*months.begin(), "2023-04");
  EXPECT_EQ(*months.rbegin(), "2025-03");
}

TEST_F(DemoTest, SameOptionsSameBytes) {
  const DemoData again = Generate();
  EXPECT_EQ(again.catalogue.SerializeAsString(), data().catalogue.SerializeAsString());
  ASSERT_EQ(again.requests.size(), data().requests.size());
  for (size_t i = 0; i < again.requests.size(); ++i) {
    ASSERT_EQ(Bytes(again.requests[i]), Bytes(data().requests[i])) << "request " << i;
  }
  EXPECT_EQ(again.rows, data().rows);
  EXPECT_EQ(again.distinct_observations, data().distinct_observations);
}

TEST_F(DemoTest, AnotherSeedAnotherDataset) {
  DemoOptions o;
  o.seed = 7;
  const DemoData other = Generate(o);
  EXPECT_NE(other.catalogue.SerializeAsString(), data().catalogue.SerializeAsString());
  EXPECT_NE(other.rows, data().rows);
  // The shape stays: same collaboratives, measures and organisation count.
  EXPECT_EQ(other.catalogue.organisations_size(), data().catalogue.organisations_size());
  EXPECT_EQ(other.catalogue.measures_size(), data().catalogue.measures_size());
}

TEST_F(DemoTest, CountsMatchARecount) {
  size_t rows = 0;
  std::set<Key> keys;
  for (const auto& r : data().requests) {
    if (!r.observations) continue;
    rows += r.observations->rows_size();
    for (const auto& row : r.observations->rows()) keys.insert(KeyOf(row));
  }
  EXPECT_EQ(data().rows, rows);
  EXPECT_EQ(data().distinct_observations, keys.size());
  // 330 organisations x ~14 measures x ~21 enrolled months, less gaps.
  EXPECT_GT(data().distinct_observations, 60'000u);
  EXPECT_LT(data().distinct_observations, 150'000u);
  EXPECT_GT(data().rows, data().distinct_observations);
}

TEST_F(DemoTest, ResendsRepeatAnEarlierRequestExactly) {
  std::map<std::string, std::string> first_by_id;
  int resends = 0, originals = 0;
  for (const auto& r : data().requests) {
    if (!r.observations) continue;
    const std::string bytes = r.observations->SerializeAsString();
    const std::string& id = r.observations->submission_id();
    if (r.resend) {
      ++resends;
      auto it = first_by_id.find(id);
      ASSERT_NE(it, first_by_id.end()) << id << " resent before it was sent";
      EXPECT_EQ(it->second, bytes) << id;
    } else {
      ++originals;
      EXPECT_TRUE(first_by_id.emplace(id, bytes).second) << "id reused: " << id;
      EXPECT_TRUE(IsValidClientId(id)) << id;
    }
  }
  EXPECT_GT(resends, 0);
  EXPECT_NEAR(double(resends) / originals, options().resend_rate, 0.006);
}

TEST_F(DemoTest, CorrectionsChangeAnExistingKeyAfterTheNextMonthsReturns) {
  const std::string last = options().first_month.Plus(options().months - 1).ToString();
  std::map<Key, std::pair<int64_t, int64_t>> value;  // (numerator, denominator or -1)
  std::string latest_month;                          // of a return seen so far
  int corrected = 0, correction_requests = 0;
  for (const auto& r : data().requests) {
    if (!r.observations || r.resend) continue;
    const auto& b = *r.observations;
    const bool is_fix = b.submission_id().ends_with("-fix1");
    if (is_fix) ++correction_requests;
    for (const auto& row : b.rows()) {
      const std::pair<int64_t, int64_t> v{row.numerator(),
                                          row.has_denominator() ? row.denominator() : -1};
      auto it = value.find(KeyOf(row));
      if (is_fix) {
        ASSERT_NE(it, value.end()) << b.submission_id() << " corrects a key never sent";
        EXPECT_NE(it->second, v) << b.submission_id() << " " << row.measure_id();
        EXPECT_EQ(b.submission_id(), row.ods_code() + "-" + row.month() + "-fix1");
        // Arrives after returns for the following month began (the last
        // month has no following month in the data).
        if (row.month() < last) {
          EXPECT_GT(latest_month, row.month()) << b.submission_id();
        }
        it->second = v;
        ++corrected;
      } else {
        EXPECT_EQ(it, value.end()) << "a return repeats a key: " << b.submission_id();
        EXPECT_EQ(b.submission_id(), row.ods_code() + "-" + row.month());
        value.emplace(KeyOf(row), v);
        latest_month = std::max(latest_month, row.month());
      }
    }
  }
  EXPECT_GT(correction_requests, 0);
  EXPECT_NEAR(double(corrected) / data().distinct_observations, options().correction_rate, 0.01);
}

TEST_F(DemoTest, GapsAreOrganisationMonthsEnrolledButNeverReported) {
  const Month first = options().first_month;
  std::set<OrgMonth> enrolled;
  for (const auto& e : data().catalogue.enrolments()) {
    const Month from = *Month::Parse(e.from_month());
    const Month to =
        e.to_month().empty() ? first.Plus(options().months - 1) : *Month::Parse(e.to_month());
    for (Month m = from; m <= to; m = m.Plus(1)) enrolled.emplace(e.ods_code(), m.ToString());
  }
  std::set<OrgMonth> reported;
  for (const auto& r : data().requests) {
    if (!r.observations) continue;
    for (const auto& row : r.observations->rows()) reported.emplace(row.ods_code(), row.month());
  }
  for (const auto& om : reported) EXPECT_TRUE(enrolled.count(om)) << om.first << " " << om.second;
  const double gaps = 1.0 - double(reported.size()) / enrolled.size();
  EXPECT_NEAR(gaps, options().gap_rate, 0.01);
}

TEST_F(DemoTest, ReturnsArriveInMonthOrderWithEveryEnrolledMeasure) {
  std::string previous;
  for (const auto& r : data().requests) {
    if (!r.observations || r.resend) continue;
    const auto& b = *r.observations;
    if (b.submission_id().ends_with("-fix1")) continue;
    const std::string& month = b.rows(0).month();
    EXPECT_GE(month, previous) << b.submission_id();
    previous = month;
    // A return covers every measure the organisation is enrolled for, unless
    // it never arrived: count against the catalogue.
    int enrolled = 0;
    for (const auto& [id, m] : catalogue().measures()) {
      if (catalogue().IsEnrolled(b.rows(0).ods_code(), id, *Month::Parse(month))) ++enrolled;
    }
    EXPECT_EQ(b.rows_size(), enrolled) << b.submission_id();
  }
}

// Sums of numerator and denominator over a quarter's rows (first value of
// each key; corrections move little).
struct Sums {
  double numerator = 0;
  double denominator = 0;
  double Ratio() const { return numerator / denominator; }
};

TEST_F(DemoTest, ValuesArePlausibleAndImproveGently) {
  std::map<std::string, Sums> first_q, last_q;
  std::map<std::string, v1::Sector> sector;
  for (const auto& o : data().catalogue.organisations()) sector[o.ods_code()] = o.sector();
  for (const auto& r : data().requests) {
    if (!r.observations || r.resend) continue;
    for (const auto& row : r.observations->rows()) {
      const v1::Sector s = sector[row.ods_code()];
      if (row.measure_id() == "falls-harm-rate.v1" && s == v1::SECTOR_ACUTE) {
        EXPECT_GE(row.denominator(), 6000) << row.ods_code() << " " << row.month();
        EXPECT_LE(row.denominator(), 30000) << row.ods_code() << " " << row.month();
      }
      if (row.measure_id() == "smoking-at-delivery.v1") {
        EXPECT_GE(row.denominator(), 150) << row.ods_code() << " " << row.month();
        EXPECT_LE(row.denominator(), 600) << row.ods_code() << " " << row.month();
      }
      Sums* q = nullptr;
      if (row.month() >= "2023-04" && row.month() <= "2023-09") q = &first_q[row.measure_id()];
      if (row.month() >= "2024-10" && row.month() <= "2025-03") q = &last_q[row.measure_id()];
      if (q == nullptr) continue;
      q->numerator += row.numerator();
      q->denominator += row.has_denominator() ? row.denominator() : 1;
    }
  }
  // National levels near published figures, moving the better way.
  EXPECT_NEAR(first_q["news2-on-time.v1"].Ratio(), 0.80, 0.06);
  EXPECT_GT(last_q["news2-on-time.v1"].Ratio(), first_q["news2-on-time.v1"].Ratio() + 0.03);
  EXPECT_NEAR(first_q["falls-harm-rate.v1"].Ratio() * 1000, 0.21, 0.06);
  EXPECT_LT(last_q["falls-harm-rate.v1"].Ratio(), first_q["falls-harm-rate.v1"].Ratio() * 0.95);
  EXPECT_NEAR(first_q["smoking-at-delivery.v1"].Ratio(), 0.10, 0.03);
  EXPECT_LT(last_q["smoking-at-delivery.v1"].Ratio(), first_q["smoking-at-delivery.v1"].Ratio());
  EXPECT_LT(last_q["cardiac-arrest-rate.v1"].Ratio(), first_q["cardiac-arrest-rate.v1"].Ratio());
  EXPECT_NEAR(last_q["critical-care-unplanned-rate.v1"].Ratio() /
                  first_q["critical-care-unplanned-rate.v1"].Ratio(),
              1.0, 0.10);
}

TEST_F(DemoTest, MostOrganisationsImproveAndAFewGetWorse) {
  // Per organisation: omitted critical doses (lower is better) in the first
  // and the last six months.
  std::map<std::string, std::pair<Sums, Sums>> by_org;
  for (const auto& r : data().requests) {
    if (!r.observations || r.resend) continue;
    for (const auto& row : r.observations->rows()) {
      if (row.measure_id() != "omitted-critical-doses.v1") continue;
      Sums* s = nullptr;
      if (row.month() <= "2023-09") s = &by_org[row.ods_code()].first;
      if (row.month() >= "2024-10") s = &by_org[row.ods_code()].second;
      if (s == nullptr) continue;
      s->numerator += row.numerator();
      s->denominator += row.denominator();
    }
  }
  int better = 0, worse = 0;
  for (const auto& [ods, halves] : by_org) {
    if (halves.first.denominator == 0 || halves.second.denominator == 0) continue;
    (halves.second.Ratio() < halves.first.Ratio() ? better : worse)++;
  }
  // About 8% of organisations get worse by design; sampling noise on small
  // audits makes some more look worse over a year and a half.
  const double share_worse = double(worse) / (better + worse);
  EXPECT_GT(better, 100);
  EXPECT_GT(share_worse, 0.05);
  EXPECT_LT(share_worse, 0.30);
}

TEST_F(DemoTest, StaffTrainedToDateNeverFallsInAReturn) {
  std::map<std::string, int64_t> latest;  // ods -> last value seen, in month order
  std::map<std::string, std::string> latest_month;
  int rising = 0;
  for (const auto& r : data().requests) {
    if (!r.observations || r.resend) continue;
    if (r.observations->submission_id().ends_with("-fix1")) continue;
    for (const auto& row : r.observations->rows()) {
      if (row.measure_id() != "safety-culture-trained.v1") continue;
      auto it = latest.find(row.ods_code());
      if (it != latest.end()) {
        ASSERT_GT(row.month(), latest_month[row.ods_code()]);
        EXPECT_GE(row.numerator(), it->second) << row.ods_code() << " " << row.month();
        if (row.numerator() > it->second) ++rising;
      }
      latest[row.ods_code()] = row.numerator();
      latest_month[row.ods_code()] = row.month();
    }
  }
  EXPECT_GT(rising, 1000);
}

TEST_F(DemoTest, LearningReadsLikeQualityImprovement) {
  std::set<std::string> ids;
  std::set<v1::LearningKind> kinds;
  std::set<std::string> topics;
  std::map<std::string, int> per_collaborative;
  int linked = 0;
  for (const auto& r : data().requests) {
    if (!r.learning) continue;
    const v1::Learning& l = *r.learning;
    EXPECT_TRUE(ids.insert(l.learning_id()).second) << l.learning_id();
    kinds.insert(l.kind());
    topics.insert(l.topic_id());
    ++per_collaborative[l.collaborative_id()];
    EXPECT_FALSE(l.summary().empty());
    EXPECT_FALSE(l.outcome().empty());
    for (const std::string* text : {&l.title(), &l.summary(), &l.outcome()}) {
      EXPECT_EQ(text->find('{'), std::string::npos) << *text;
      EXPECT_FALSE(FindNhsNumber(*text).has_value()) << *text;
    }
    if (l.measure_ids_size() > 0) ++linked;
    for (const auto& id : l.measure_ids()) {
      EXPECT_EQ(catalogue().FindMeasure(id)->topic_id(), l.topic_id()) << l.learning_id();
    }
  }
  EXPECT_EQ(kinds.size(), 4u);
  EXPECT_EQ(topics.size(), 6u);
  EXPECT_EQ(per_collaborative.size(), 15u);
  for (const auto& [id, n] : per_collaborative) EXPECT_EQ(n, 16) << id;
  EXPECT_GT(linked, 60);
  EXPECT_LT(linked, 240);
}

TEST_F(DemoTest, CorrectionsAndResendsAreFlagged) {
  int corrections = 0, resent_corrections = 0;
  for (const auto& r : data().requests) {
    if (!r.observations) {
      EXPECT_FALSE(r.correction);
      continue;
    }
    EXPECT_EQ(r.correction, r.observations->submission_id().ends_with("-fix1"))
        << r.observations->submission_id();
    if (r.correction) ++(r.resend ? resent_corrections : corrections);
  }
  EXPECT_GT(corrections, 1000);
  EXPECT_GT(resent_corrections, 0);
}

TEST_F(DemoTest, ExpectedRowsMatchesTheCount) {
  const double expected = ExpectedRows(options());
  EXPECT_NEAR(double(data().rows) / expected, 1.0, 0.02) << expected;
  // Without gaps, corrections and resends the expectation is exact: every
  // enrolled organisation-measure-month once.
  DemoOptions clean = options();
  clean.gap_rate = 0;
  clean.correction_rate = 0;
  clean.resend_rate = 0;
  size_t enrolled = 0;
  for (const auto& e : data().catalogue.enrolments()) {
    const Month from = *Month::Parse(e.from_month());
    const Month to = e.to_month().empty() ? options().first_month.Plus(options().months - 1)
                                          : *Month::Parse(e.to_month());
    enrolled += from.MonthsUntil(to) + 1;
  }
  EXPECT_EQ(ExpectedRows(clean), double(enrolled));
  // Returns that never arrived are the only difference.
  EXPECT_NEAR(double(data().distinct_observations) / enrolled, 1 - options().gap_rate, 0.01);
}

TEST_F(DemoTest, DefaultCatalogueIsOneChange) {
  ASSERT_EQ(data().catalogue_changes.size(), 1u);
  EXPECT_EQ(data().catalogue_changes[0].SerializeAsString(), data().catalogue.SerializeAsString());
  const std::vector<v1::CatalogueChanged> changes = DemoCatalogue();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].SerializeAsString(), data().catalogue.SerializeAsString());
  EXPECT_LT(changes[0].ByteSizeLong(), kCatalogueChangeBytes);
}

TEST(DemoOptionsTest, SmallCleanDatasetHasNoGapsCorrectionsOrResends) {
  DemoOptions o;
  o.organisations_per_collaborative = 2;
  o.first_month = Month::FromYearMonth(2024, 1);
  o.months = 6;
  o.gap_rate = 0;
  o.correction_rate = 0;
  o.resend_rate = 0;
  o.learning_per_collaborative_quarter = 1;
  const DemoData d = Generate(o);
  EXPECT_EQ(d.catalogue.organisations_size(), 30);
  Catalogue cat;
  ASSERT_TRUE(cat.Check(d.catalogue).ok()) << cat.Check(d.catalogue);
  cat.Apply(d.catalogue);
  const Month current = o.first_month.Plus(o.months);
  int learning = 0;
  std::set<std::string> months;
  for (const auto& r : d.requests) {
    EXPECT_FALSE(r.resend);
    if (r.learning) {
      ++learning;
      EXPECT_TRUE(ValidateLearning(cat, *r.learning, current).ok());
      continue;
    }
    const auto& b = *r.observations;
    EXPECT_FALSE(b.submission_id().ends_with("-fix1"));
    EXPECT_TRUE(ValidateObservations(cat, b, b.ByteSizeLong(), current).ok());
    for (const auto& row : b.rows()) months.insert(row.month());
  }
  // Jan..Jun 2024 touches 2023/24 Q4 and 2024/25 Q1: 15 x 2 quarters.
  EXPECT_EQ(learning, 30);
  EXPECT_EQ(*months.begin(), "2024-01");
  EXPECT_EQ(*months.rbegin(), "2024-06");
  EXPECT_EQ(d.rows, d.distinct_observations);
}

TEST(DemoOptionsTest, GapRateDoesNotChangeTheValues) {
  DemoOptions clean;
  clean.organisations_per_collaborative = 3;
  clean.months = 8;
  clean.gap_rate = 0;
  clean.correction_rate = 0;
  clean.resend_rate = 0;
  DemoOptions gappy = clean;
  gappy.gap_rate = 0.3;
  std::map<Key, int64_t> all;
  for (const auto& r : Generate(clean).requests) {
    if (!r.observations) continue;
    for (const auto& row : r.observations->rows()) all[KeyOf(row)] = row.numerator();
  }
  size_t seen = 0;
  for (const auto& r : Generate(gappy).requests) {
    if (!r.observations) continue;
    for (const auto& row : r.observations->rows()) {
      ++seen;
      EXPECT_EQ(all.at(KeyOf(row)), row.numerator());
    }
  }
  EXPECT_LT(seen, all.size() * 0.8);
  EXPECT_GT(seen, all.size() * 0.6);
}

// The datasets as they were first generated, byte for byte: demos and
// end-to-end tests depend on them, so a change to the generator must not
// move them. The odd options exercise the arrival order: many corrections
// and resends, a window that starts mid-quarter, a single month.
TEST(DemoOptionsTest, KnownOptionsKeepTheirBytes) {
  EXPECT_EQ(Digest(Generate()), "c654331321d3aac1554d5fce9dc6d0c080748e68c750b40f68ef365b10536360");
  DemoOptions busy;
  busy.seed = 7;
  busy.organisations_per_collaborative = 4;
  busy.first_month = Month::FromYearMonth(2024, 2);
  busy.months = 10;
  busy.gap_rate = 0.1;
  busy.correction_rate = 0.3;
  busy.resend_rate = 0.2;
  busy.learning_per_collaborative_quarter = 3;
  EXPECT_EQ(Digest(Generate(busy)),
            "c774169a1f9bbe3a32ee49ae1725c75faaea6d65b34790bd66c7e9c23fe5d077");
  DemoOptions one_month;
  one_month.organisations_per_collaborative = 3;
  one_month.months = 1;
  one_month.resend_rate = 0.5;
  EXPECT_EQ(Digest(Generate(one_month)),
            "2d80aa8dcc40ee3de0ccf8f27109257d28a11b85041aed9c064da71c504ffd8b");
}

TEST(DemoOptionsTest, MeasureVariantsAreRegisteredUnderTheirOwnIds) {
  DemoOptions o;
  o.organisations_per_collaborative = 2;
  o.months = 6;
  o.measure_variants = 3;
  const DemoData d = Generate(o);
  ASSERT_EQ(d.catalogue.measures_size(), 3 * 23);
  std::map<std::string, v1::Measure> by_id;
  for (const auto& m : d.catalogue.measures()) {
    EXPECT_TRUE(IsValidMeasureId(m.id())) << m.id();
    EXPECT_TRUE(by_id.emplace(m.id(), m).second) << "duplicate " << m.id();
  }
  // A definition's variants sit together, variant 1 under today's id.
  EXPECT_EQ(d.catalogue.measures(0).id(), "news2-on-time.v1");
  EXPECT_EQ(d.catalogue.measures(1).id(), "news2-on-time-w02.v1");
  EXPECT_EQ(d.catalogue.measures(2).id(), "news2-on-time-w03.v1");
  EXPECT_EQ(d.catalogue.measures(3).id(), "news2-escalation.v1");
  const v1::Measure& falls = by_id.at("falls-harm-rate.v1");
  const v1::Measure& falls3 = by_id.at("falls-harm-rate-w03.v1");
  EXPECT_EQ(falls.name(),
            "Inpatient falls with moderate or severe harm per 1,000 occupied bed days");
  EXPECT_EQ(
      falls3.name(),
      "Inpatient falls with moderate or severe harm per 1,000 occupied bed days (ward set 3)");
  // The same definition but for id and name.
  v1::Measure renamed = falls3;
  renamed.set_id(falls.id());
  renamed.set_name(falls.name());
  EXPECT_EQ(renamed.SerializeAsString(), falls.SerializeAsString());
  EXPECT_EQ(by_id.at("safety-culture-trained-w02.v1").aggregation(), v1::AGGREGATION_LAST);

  Catalogue cat;
  ASSERT_TRUE(cat.Check(d.catalogue).ok()) << cat.Check(d.catalogue);
  cat.Apply(d.catalogue);
  const Month current = o.first_month.Plus(o.months);
  // Every variant is reported, with values of its own.
  std::map<std::string, int> rows_per_measure;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int64_t>> by_org_month;
  for (const auto& r : d.requests) {
    if (!r.observations) continue;
    const auto& b = *r.observations;
    EXPECT_TRUE(ValidateObservations(cat, b, b.ByteSizeLong(), current).ok()) << b.submission_id();
    if (r.resend || r.correction) continue;
    for (const auto& row : b.rows()) {
      ++rows_per_measure[row.measure_id()];
      by_org_month[{row.ods_code(), row.month()}][row.measure_id()] = row.numerator();
    }
  }
  // All but the ambulance measure's variants: two organisations per
  // collaborative leave no room for an ambulance service.
  std::set<std::string> unreported;
  for (const auto& [id, m] : by_id) {
    if (!rows_per_measure.count(id)) unreported.insert(id);
  }
  EXPECT_EQ(unreported, (std::set<std::string>{"amb-sepsis-screen.v1", "amb-sepsis-screen-w02.v1",
                                               "amb-sepsis-screen-w03.v1"}));
  int same = 0, compared = 0;
  for (const auto& [key, values] : by_org_month) {
    auto v1 = values.find("falls-count.v1");
    auto v2 = values.find("falls-count-w02.v1");
    if (v1 == values.end() || v2 == values.end()) continue;
    ++compared;
    if (v1->second == v2->second) ++same;
  }
  EXPECT_GT(compared, 20);
  EXPECT_LT(same, compared / 4);
}

TEST(DemoOptionsTest, ManyVariantsPadTheirNumber) {
  DemoOptions o;
  o.organisations_per_collaborative = 1;
  o.measure_variants = 120;
  const std::vector<v1::CatalogueChanged> changes = DemoCatalogue(o);
  ASSERT_FALSE(changes.empty());
  std::set<std::string> ids;
  for (const auto& c : changes) {
    for (const auto& m : c.measures()) ids.insert(m.id());
  }
  EXPECT_EQ(ids.size(), 23u * 120);
  EXPECT_TRUE(ids.count("falls-harm-rate.v1"));
  EXPECT_TRUE(ids.count("falls-harm-rate-w002.v1"));
  EXPECT_TRUE(ids.count("falls-harm-rate-w120.v1"));
  EXPECT_FALSE(ids.count("falls-harm-rate-w121.v1"));
  EXPECT_FALSE(ids.count("falls-harm-rate-w02.v1"));
}

TEST(DemoOptionsTest, EnrolRateChoosesAmongTheSameDraws) {
  DemoOptions full;
  full.organisations_per_collaborative = 10;
  DemoOptions half = full;
  half.enrol_rate = 0.35;
  std::set<std::pair<std::string, std::string>> at_full;
  const v1::CatalogueChanged all = DemoCatalogue(full)[0];
  for (const auto& e : all.enrolments()) {
    at_full.emplace(e.ods_code(), e.measure_id());
  }
  const v1::CatalogueChanged fewer = DemoCatalogue(half)[0];
  // Every organisation keeps at least one measure; the choices at 0.35 are
  // a subset of those at 0.7, as each measure's draw is the same.
  int not_at_full = 0;
  for (const auto& e : fewer.enrolments()) {
    if (!at_full.count({e.ods_code(), e.measure_id()})) ++not_at_full;
  }
  // Only fallbacks (an organisation that drew none) may differ.
  EXPECT_LE(not_at_full, 5);
  EXPECT_NEAR(double(fewer.enrolments_size()) / at_full.size(), 0.5, 0.05);
  EXPECT_NEAR(ExpectedRows(half) / ExpectedRows(full), 0.5, 0.05);
}

std::vector<DemoRequest> Collect(const DemoOptions& o) {
  std::vector<DemoRequest> out;
  GenerateStream(o, [&](DemoRequest&& r) { out.push_back(std::move(r)); });
  return out;
}

TEST(DemoStreamTest, StreamHandsOverWhatGenerateHolds) {
  DemoOptions o;
  o.organisations_per_collaborative = 3;
  o.months = 9;
  o.measure_variants = 2;
  o.correction_rate = 0.3;
  o.resend_rate = 0.3;
  const DemoData d = Generate(o);
  const std::vector<DemoRequest> streamed = Collect(o);
  ASSERT_EQ(streamed.size(), d.requests.size());
  for (size_t i = 0; i < streamed.size(); ++i) {
    ASSERT_EQ(Bytes(streamed[i]), Bytes(d.requests[i])) << "request " << i;
    ASSERT_EQ(streamed[i].correction, d.requests[i].correction) << "request " << i;
  }
  const std::vector<v1::CatalogueChanged> changes = DemoCatalogue(o);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].SerializeAsString(), d.catalogue.SerializeAsString());

  // The default dataset too, whose bytes KnownOptionsKeepTheirBytes pins.
  const DemoData defaults = Generate();
  const std::vector<DemoRequest> default_stream = Collect({});
  ASSERT_EQ(default_stream.size(), defaults.requests.size());
  for (size_t i = 0; i < default_stream.size(); ++i) {
    ASSERT_EQ(Bytes(default_stream[i]), Bytes(defaults.requests[i])) << "request " << i;
  }
}

TEST(DemoCatalogueTest, LargeCatalogueIsSplitAndAppliesToTheSameCatalogue) {
  DemoOptions o;
  o.organisations_per_collaborative = 500;  // 7,500 organisations
  o.months = 1;                             // values are not the point here
  o.learning_per_collaborative_quarter = 0;
  const DemoData d = Generate(o);
  const std::vector<v1::CatalogueChanged>& changes = d.catalogue_changes;
  ASSERT_GE(changes.size(), 3u);
  EXPECT_GT(d.catalogue.ByteSizeLong(), kCatalogueChangeBytes);

  ASSERT_EQ(DemoCatalogue(o).size(), changes.size());

  // Reference data first, then enrolments in changes of their own.
  EXPECT_EQ(changes[0].topics_size(), 6);
  EXPECT_EQ(changes[0].collaboratives_size(), 15);
  EXPECT_EQ(changes[0].organisations_size(), 7500);
  EXPECT_EQ(changes[0].measures_size(), 23);
  EXPECT_EQ(changes[0].enrolments_size(), 0);
  int enrolments = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    const v1::CatalogueChanged& c = changes[i];
    EXPECT_EQ(c.change_id(), StrCat("demo-catalogue-", i + 1));
    EXPECT_LT(c.ByteSizeLong(), kCatalogueChangeBytes) << c.change_id();
    if (i > 0) {
      EXPECT_EQ(
          c.topics_size() + c.collaboratives_size() + c.organisations_size() + c.measures_size(), 0)
          << c.change_id();
    }
    if (i > 0 && i + 1 < changes.size()) {
      EXPECT_GT(c.ByteSizeLong(), kCatalogueChangeBytes * 9 / 10) << c.change_id() << " not full";
    }
    enrolments += c.enrolments_size();
  }
  EXPECT_EQ(enrolments, d.catalogue.enrolments_size());

  Catalogue split;
  for (const auto& c : changes) {
    const absl::Status s = split.Check(c);
    ASSERT_TRUE(s.ok()) << c.change_id() << ": " << s;
    split.Apply(c);
  }
  // The single change holds the same entities; checking it would scan the
  // organisations it registers for every enrolment, so it is applied
  // directly.
  Catalogue whole;
  whole.Apply(d.catalogue);
  v1::Catalogue a, b;
  split.ToProto(&a);
  whole.ToProto(&b);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(a.enrolments_size(), b.enrolments_size());
  EXPECT_GT(a.enrolments_size(), 50'000);
}

size_t StreamedRows(const DemoOptions& o) {
  size_t rows = 0;
  GenerateStream(o, [&](DemoRequest&& r) {
    if (r.observations) rows += r.observations->rows_size();
  });
  return rows;
}

TEST(BenchOptionsTest, DatasetsHaveAboutTheRowsAskedFor) {
  for (const uint64_t target : {10'000u, 100'000u, 1'000'000u}) {
    const DemoOptions o = BenchOptions(target);
    const double rows = double(StreamedRows(o));
    EXPECT_NEAR(rows / double(target), 1.0, 0.10) << target;
    EXPECT_NEAR(ExpectedRows(o) / double(target), 1.0, 0.02) << target;
    EXPECT_EQ(o.measure_variants, 13) << target;
    EXPECT_EQ(o.months, 24) << target;
    EXPECT_LE(o.enrol_rate, 0.7) << target;
  }
  // A million rows: 2,100 organisations enrolled in about a tenth of their
  // measures.
  const DemoOptions million = BenchOptions(1'000'000);
  EXPECT_EQ(million.organisations_per_collaborative, 140);
  EXPECT_GT(million.enrol_rate, 0.08);
  EXPECT_LT(million.enrol_rate, 0.15);
}

TEST(BenchOptionsTest, LargerTargetsGrowTheOrganisationsAtTheDemoRate) {
  // Counted from the catalogue, without generating values.
  const DemoOptions ten = BenchOptions(10'000'000);
  const DemoOptions fifty = BenchOptions(50'000'000);
  EXPECT_NEAR(ExpectedRows(ten) / 10e6, 1.0, 0.02);
  EXPECT_NEAR(ExpectedRows(fifty) / 50e6, 1.0, 0.02);
  EXPECT_EQ(ten.enrol_rate, 0.7);
  EXPECT_EQ(fifty.enrol_rate, 0.7);
  EXPECT_GT(ten.organisations_per_collaborative, 140);
  EXPECT_GT(fifty.organisations_per_collaborative, 4 * ten.organisations_per_collaborative);
  EXPECT_LT(fifty.organisations_per_collaborative, 6 * ten.organisations_per_collaborative);
}

TEST(BenchOptionsTest, SameTargetSameBytes) {
  const DemoOptions a = BenchOptions(20'000);
  const DemoOptions b = BenchOptions(20'000);
  EXPECT_EQ(a.organisations_per_collaborative, b.organisations_per_collaborative);
  EXPECT_EQ(a.enrol_rate, b.enrol_rate);
  EXPECT_EQ(a.measure_variants, b.measure_variants);
  EXPECT_EQ(a.seed, kDefaultSeed);
  auto digest = [](const DemoOptions& o) {
    std::string all;
    for (const auto& c : DemoCatalogue(o)) StrAppend(&all, c.SerializeAsString());
    GenerateStream(o, [&](DemoRequest&& r) { StrAppend(&all, Bytes(r)); });
    return Sha256Hex(all);
  };
  EXPECT_EQ(digest(a), digest(b));
  const DemoOptions other = BenchOptions(20'000, 7);
  EXPECT_EQ(other.seed, 7u);
  EXPECT_NE(digest(other), digest(a));
}

}  // namespace
}  // namespace psc::demo
