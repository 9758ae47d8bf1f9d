// Golden tests of the renderers: a small report built by hand, and the
// exact bytes each renderer must give for it.
#include "psc/report/render.h"

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "psc/domain/aggregation.h"
#include "rich_report.h"

namespace psc::report {
namespace {

using ::testing::HasSubstr;

v1::Measure MakeMeasure(const std::string& id, const std::string& name, const std::string& topic,
                        v1::MeasureType type, v1::Unit unit, int64_t rate_per,
                        v1::Aggregation aggregation, v1::Direction direction,
                        const std::string& numerator_label, const std::string& denominator_label) {
  v1::Measure m;
  m.set_id(id);
  m.set_name(name);
  m.set_topic_id(topic);
  m.set_type(type);
  m.set_unit(unit);
  m.set_rate_per(rate_per);
  m.set_aggregation(aggregation);
  m.set_improvement(direction);
  m.set_numerator_label(numerator_label);
  m.set_denominator_label(denominator_label);
  return m;
}

// A figure as the report builder makes it: the value from DisplayValue.
void SetFigure(v1::Figure* f, const v1::Measure& m, int64_t numerator, int64_t denominator,
               int64_t reported, int64_t expected) {
  f->set_numerator(numerator);
  f->set_denominator(denominator);
  if (auto v = DisplayValue(m, numerator, denominator, reported > 0)) f->set_value(*v);
  f->mutable_coverage()->set_reported(reported);
  f->mutable_coverage()->set_expected(expected);
}

void AddArea(v1::MeasureReport* mr, const std::string& id, int64_t numerator, int64_t denominator,
             int64_t reported, int64_t expected) {
  auto* area = mr->add_collaboratives();
  area->set_collaborative_id(id);
  SetFigure(area->mutable_figure(), mr->measure(), numerator, denominator, reported, expected);
}

v1::QuarterlyReport Skeleton() {
  v1::QuarterlyReport r;
  r.set_quarter("2024/25 Q4");
  r.set_first_month("2025-01");
  r.set_last_month("2025-03");
  r.set_as_of_position(7);
  return r;
}

void AddCollaboratives(v1::QuarterlyReport* r) {
  auto* oxford = r->add_collaboratives();
  oxford->set_id("oxford");
  oxford->set_name("Oxford");
  auto* wessex = r->add_collaboratives();
  wessex->set_id("wessex");
  wessex->set_name("Wessex");
}

v1::TopicReport* AddTopic(v1::QuarterlyReport* r, v1::MeasureType type, const std::string& id,
                          const std::string& name) {
  auto* t = r->add_types();
  t->set_type(type);
  auto* topic = t->add_topics();
  topic->mutable_topic()->set_id(id);
  topic->mutable_topic()->set_name(name);
  return topic;
}

// falls-harm-rate.v1: national (3 + 1) / 3,000 bed days x 1,000 = 1.3333
// from 2 of 6 org-months; oxford reported nothing; wessex all of it.
void AddFallsHarmRate(v1::TopicReport* topic) {
  auto* mr = topic->add_measures();
  *mr->mutable_measure() = MakeMeasure(
      "falls-harm-rate.v1", "Falls with harm per 1,000 bed days", "falls",
      v1::MEASURE_TYPE_OUTCOME, v1::UNIT_RATE, 1000, v1::AGGREGATION_RATIO, v1::DIRECTION_DOWN,
      "falls with harm", "occupied bed days");
  mr->mutable_measure()->set_target(1.5);
  SetFigure(mr->mutable_national(), mr->measure(), 4, 3000, 2, 6);
  AddArea(mr, "oxford", 0, 0, 0, 3);
  AddArea(mr, "wessex", 4, 3000, 2, 3);
}

// One measure of one topic: the JSON golden.
v1::QuarterlyReport SmallReport() {
  v1::QuarterlyReport r = Skeleton();
  AddFallsHarmRate(AddTopic(&r, v1::MEASURE_TYPE_OUTCOME, "falls", "Falls"));
  AddCollaboratives(&r);
  return r;
}

// A proportion, a count and a rate in two types: the CSV and text goldens.
v1::QuarterlyReport FixedReport() {
  v1::QuarterlyReport r = Skeleton();
  {
    auto* topic =
        AddTopic(&r, v1::MEASURE_TYPE_PROCESS, "deterioration", "Deterioration of the patient");
    auto* mr = topic->add_measures();
    *mr->mutable_measure() = MakeMeasure(
        "news2-on-time.v1", "NEWS2 \"on time\"", "deterioration", v1::MEASURE_TYPE_PROCESS,
        v1::UNIT_PROPORTION, 0, v1::AGGREGATION_RATIO, v1::DIRECTION_UP, "observations on time",
        "observations due");
    // 35 / 40 = 87.5%.
    SetFigure(mr->mutable_national(), mr->measure(), 35, 40, 2, 3);
    AddArea(mr, "oxford", 0, 0, 0, 1);
    AddArea(mr, "wessex", 35, 40, 2, 2);
  }
  {
    auto* topic = AddTopic(&r, v1::MEASURE_TYPE_OUTCOME, "falls", "Falls");
    auto* mr = topic->add_measures();
    *mr->mutable_measure() =
        MakeMeasure("falls-count.v1", "Inpatient falls", "falls", v1::MEASURE_TYPE_OUTCOME,
                    v1::UNIT_COUNT, 0, v1::AGGREGATION_SUM, v1::DIRECTION_DOWN, "falls", "");
    SetFigure(mr->mutable_national(), mr->measure(), 1234, 0, 5, 6);
    AddArea(mr, "wessex", 1234, 0, 5, 6);
    AddFallsHarmRate(topic);
  }
  AddCollaboratives(&r);
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(RenderCsv, Golden) {
  const std::string expected =
      "quarter,type,topic_id,measure_id,measure_name,area,area_id,numerator,denominator,value,"
      "unit,reported,expected,variation,assurance\r\n"
      "2024/25 Q4,process,deterioration,news2-on-time.v1,\"NEWS2 \"\"on time\"\"\",national,,35,"
      "40,87.5000,%,2,3,,\r\n"
      "2024/25 Q4,process,deterioration,news2-on-time.v1,\"NEWS2 \"\"on time\"\"\",collaborative,"
      "oxford,0,0,,%,0,1,,\r\n"
      "2024/25 Q4,process,deterioration,news2-on-time.v1,\"NEWS2 \"\"on time\"\"\",collaborative,"
      "wessex,35,40,87.5000,%,2,2,,\r\n"
      "2024/25 Q4,outcome,falls,falls-count.v1,Inpatient falls,national,,1234,,1234,count,5,6,,\r\n"
      "2024/25 Q4,outcome,falls,falls-count.v1,Inpatient falls,collaborative,wessex,1234,,1234,"
      "count,5,6,,\r\n"
      "2024/25 Q4,outcome,falls,falls-harm-rate.v1,\"Falls with harm per 1,000 bed days\","
      "national,,4,3000,1.3333,\"per 1,000 occupied bed days\",2,6,,\r\n"
      "2024/25 Q4,outcome,falls,falls-harm-rate.v1,\"Falls with harm per 1,000 bed days\","
      "collaborative,oxford,0,0,,\"per 1,000 occupied bed days\",0,3,,\r\n"
      "2024/25 Q4,outcome,falls,falls-harm-rate.v1,\"Falls with harm per 1,000 bed days\","
      "collaborative,wessex,4,3000,1.3333,\"per 1,000 occupied bed days\",2,3,,\r\n";
  EXPECT_EQ(RenderCsv(FixedReport()), expected);
}

TEST(RenderCsv, FieldsWithLineBreaksAreQuoted) {
  v1::QuarterlyReport r = SmallReport();
  r.mutable_types(0)->mutable_topics(0)->mutable_measures(0)->mutable_measure()->set_name(
      "two\r\nlines");
  EXPECT_THAT(RenderCsv(r), HasSubstr(",\"two\r\nlines\",national,"));
}

TEST(RenderJson, Golden) {
  const std::string expected = R"json({
  "quarter": "2024/25 Q4",
  "first_month": "2025-01",
  "last_month": "2025-03",
  "as_of_position": 7,
  "types": [
    {
      "type": "outcome",
      "topics": [
        {
          "topic": {
            "id": "falls",
            "name": "Falls",
            "essential": false
          },
          "measures": [
            {
              "measure": {
                "id": "falls-harm-rate.v1",
                "name": "Falls with harm per 1,000 bed days",
                "topic_id": "falls",
                "type": "outcome",
                "unit": "rate",
                "rate_per": 1000,
                "aggregation": "ratio",
                "improvement": "down",
                "numerator_label": "falls with harm",
                "denominator_label": "occupied bed days",
                "target": 1.5,
                "on_time_days": 0
              },
              "national": {
                "numerator": 4,
                "denominator": 3000,
                "value": 1.3333,
                "coverage": {
                  "reported": 2,
                  "expected": 6,
                  "on_time": 0
                }
              },
              "collaboratives": [
                {
                  "collaborative_id": "oxford",
                  "figure": {
                    "numerator": 0,
                    "denominator": 0,
                    "value": null,
                    "coverage": {
                      "reported": 0,
                      "expected": 3,
                      "on_time": 0
                    }
                  }
                },
                {
                  "collaborative_id": "wessex",
                  "figure": {
                    "numerator": 4,
                    "denominator": 3000,
                    "value": 1.3333,
                    "coverage": {
                      "reported": 2,
                      "expected": 3,
                      "on_time": 0
                    }
                  }
                }
              ],
              "spc": null,
              "learning": [],
              "spc_points": [],
              "spc_segments": [],
              "chart_learning": [],
              "funnel": null
            }
          ]
        }
      ]
    }
  ],
  "collaboratives": [
    {
      "id": "oxford",
      "name": "Oxford"
    },
    {
      "id": "wessex",
      "name": "Wessex"
    }
  ],
  "learning": [],
  "sign_offs": [],
  "outstanding": [],
  "publication": null
}
)json";
  EXPECT_EQ(RenderJson(SmallReport()), expected);
}

TEST(RenderJson, EmptyReportAndEscapes) {
  v1::QuarterlyReport r = Skeleton();
  r.set_quarter("q\"\\\n\t\x01é");
  EXPECT_EQ(RenderJson(r),
            "{\n"
            "  \"quarter\": \"q\\\"\\\\\\n\\t\\u0001é\",\n"
            "  \"first_month\": \"2025-01\",\n"
            "  \"last_month\": \"2025-03\",\n"
            "  \"as_of_position\": 7,\n"
            "  \"types\": [],\n"
            "  \"collaboratives\": [],\n"
            "  \"learning\": [],\n"
            "  \"sign_offs\": [],\n"
            "  \"outstanding\": [],\n"
            "  \"publication\": null\n"
            "}\n");
}

TEST(RenderJson, CountsAreIntegersAndProportionsHaveFourPlaces) {
  std::string json = RenderJson(FixedReport());
  EXPECT_THAT(json, HasSubstr("\"name\": \"NEWS2 \\\"on time\\\"\""));
  EXPECT_THAT(json, HasSubstr("\"value\": 87.5000,"));
  EXPECT_THAT(json, HasSubstr("\"value\": 1234,"));
}

// JSON without its line breaks and indentation, so that a fragment can be
// written on a few lines: `{\n    "a": 1,\n    "b": []\n  }` -> `{"a": 1,"b": []}`.
std::string Compact(const std::string& json) {
  std::string out;
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '\n') {
      out += json[i];
      continue;
    }
    while (i + 1 < json.size() && json[i + 1] == ' ') ++i;
  }
  return out;
}

TEST(RenderJson, ChartsFunnelLearningSignOffsReturnsAndPublication) {
  const std::string json = RenderJson(testing::RichReport());
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  const std::string c = Compact(json);
  // Coverage with on time; the SPC summary, linked learning and the chart's
  // first point (near limits two thirds of the way: 5.5 -/+ 1.7733...),
  // computed statistics with 4 places.
  EXPECT_THAT(c, HasSubstr("\"national\": {\"numerator\": 33,\"denominator\": 0,\"value\": 33,"
                           "\"coverage\": {\"reported\": 10,\"expected\": 12,\"on_time\": 7}}"));
  EXPECT_THAT(
      c,
      HasSubstr(
          "\"spc\": {\"points\": 23,\"variation\": \"improvement_low\",\"assurance\": \"none\","
          "\"mean\": 4.0000,\"lower_process_limit\": 2.0000,\"upper_process_limit\": 6.0000,"
          "\"trial_limits\": true,\"per_organisation\": true},"
          "\"learning\": [{\"learning_id\": \"l-rails\",\"kind\": \"what_did_not_work\","
          "\"month\": \"2025-01\",\"title\": \"Bed rails audit\",\"text_erased\": false,\"measure_ids\": "
          "[\"falls-count.v1\"],\"collaborative_id\": \"oxford\"}],"
          "\"spc_points\": [{\"month\": \"2023-04\",\"value\": 5.0000,\"mean\": 5.5000,"
          "\"lower_process_limit\": 2.8400,\"upper_process_limit\": 8.1600,\"lower_near_limit\": "
          "3.7267,\"upper_near_limit\": 7.2733,\"special_cause\": \"\",\"classification\": \"\","
          "\"segment\": 0},"));
  // The last point, the rebased segment, the changes marked; no funnel for
  // a count.
  EXPECT_THAT(
      c, HasSubstr(
             "{\"month\": \"2025-03\",\"value\": 1.5000,\"mean\": 4.0000,\"lower_process_limit\": "
             "2.0000,\"upper_process_limit\": 6.0000,\"lower_near_limit\": "
             "2.6667,\"upper_near_limit\": "
             "5.3333,\"special_cause\": \"outside_limits\",\"classification\": \"improvement\","
             "\"segment\": 1}],\"spc_segments\": [{\"first_month\": \"2023-04\","));
  EXPECT_THAT(
      c, HasSubstr(
             "{\"first_month\": \"2024-07\",\"last_month\": \"2025-03\",\"points\": 8,"
             "\"base_points\": 8,\"trial_limits\": true,\"mean\": 4.0000,\"lower_process_limit\": "
             "2.0000,\"upper_process_limit\": 6.0000,\"rebase_reason\": \"New falls policy\","
             "\"rebase_author\": \"A. Analyst\",\"fixed_after_points\": 0}],"
             "\"chart_learning\": [{\"learning_id\": \"l-huddles\",\"kind\": \"case_study\","
             "\"month\": \"2024-07\",\"title\": \"Falls huddles & \\\"safety crosses\\\"\","));
  EXPECT_THAT(c, HasSubstr("\"collaborative_id\": \"oxford\"}],\"funnel\": null}"));
  // The funnel: national 2 per 1,000; kss 1 / 8,000 at 0.125, its limits
  // 2 -/+ z x sqrt(0.002 / 8,000) x 1,000 = 2 -/+ z x 0.5.
  EXPECT_THAT(
      c,
      HasSubstr(
          "\"funnel\": {\"model\": \"rate\",\"centre\": 2.0000,\"display_factor\": 1000,"
          "\"units\": [{\"id\": \"kss\",\"numerator\": 1,\"denominator\": 8000,\"value\": "
          "0.1250,\"lower_95\": 1.0200,\"upper_95\": 2.9800,\"lower_998\": 0.4549,\"upper_998\": "
          "3.5451,\"position_95\": \"below\",\"position_998\": \"below\"},"));
  EXPECT_THAT(c, HasSubstr("\"id\": \"wessex\",\"numerator\": 35,\"denominator\": 10000,"
                           "\"value\": 3.5000,\"lower_95\": 1.1235,\"upper_95\": 2.8765,"
                           "\"lower_998\": 0.6180,\"upper_998\": 3.3820,\"position_95\": "
                           "\"above\",\"position_998\": \"above\"}]}}"));
  // The report's learning, sign-offs (a timestamp in UTC or null; revised
  // counts as integers, values with 4 places), returns and publication.
  EXPECT_THAT(
      c,
      HasSubstr(
          "\"learning\": [{\"collaborative_id\": \"oxford\",\"topic_id\": \"falls\","
          "\"case_studies\": 0,\"stories\": 0,\"innovative_practice\": 0,\"what_did_not_work\": 1,"
          "\"items\": [{\"learning_id\": \"l-rails\","));
  EXPECT_THAT(
      c,
      HasSubstr(
          "\"sign_offs\": [{\"collaborative_id\": \"oxford\",\"sign_off_id\": \"oxford-q4\","
          "\"position\": 38,\"as_of_position\": 37,\"signed_off_at\": \"2025-04-03T10:15:00Z\","
          "\"principal\": \"oxford-lead\",\"revisions\": []},{\"collaborative_id\": \"wessex\","
          "\"sign_off_id\": \"wessex-q4\",\"position\": 39,\"as_of_position\": 39,"
          "\"signed_off_at\": null,\"principal\": \"wessex-lead\",\"revisions\": [{\"measure_id\": "
          "\"falls-harm-rate.v1\",\"area\": \"wessex\",\"field\": \"numerator\",\"published\": 34,"
          "\"current\": 35},{\"measure_id\": \"falls-harm-rate.v1\",\"area\": "
          "\"wessex\",\"field\": "
          "\"value\",\"published\": 3.4000,\"current\": 3.5000}]}],\"outstanding\": [{\"month\": "
          "\"2025-01\","));
  EXPECT_THAT(
      c,
      HasSubstr(
          "{\"month\": \"2025-03\",\"collaboratives\": [{\"collaborative_id\": \"oxford\","
          "\"expected\": 4,\"reported\": 4,\"on_time\": 4,\"outstanding\": []},"
          "{\"collaborative_id\": \"wessex\",\"expected\": 6,\"reported\": 4,\"on_time\": 3,"
          "\"outstanding\": [{\"ods_code\": \"RDZ\",\"name\": \"University Hospitals Dorset\","
          "\"measure_ids\": [\"falls-count.v1\",\"news2-on-time.v1\"]}]}],\"as_of_position\": 42}],"
          "\"publication\": {\"publication_id\": \"q4-first\",\"position\": 41,"
          "\"as_of_position\": 40,\"revisions\": []}}"));
  EXPECT_EQ(json, RenderJson(testing::RichReport()));
}

TEST(RenderJson, TimestampFractionsAndStatisticsWithoutNegativeZero) {
  v1::QuarterlyReport r = testing::RichReport();
  r.mutable_sign_offs(0)->mutable_signed_off_at()->set_nanos(500000000);
  r.mutable_sign_offs(1)->mutable_signed_off_at()->set_seconds(0);
  r.mutable_sign_offs(1)->mutable_signed_off_at()->set_nanos(1500);
  auto* spc = r.mutable_types(1)->mutable_topics(0)->mutable_measures(0)->mutable_spc();
  spc->set_lower_process_limit(-0.00001);
  const std::string c = Compact(RenderJson(r));
  EXPECT_THAT(c, HasSubstr("\"signed_off_at\": \"2025-04-03T10:15:00.500Z\""));
  EXPECT_THAT(c, HasSubstr("\"signed_off_at\": \"1970-01-01T00:00:00.000001500Z\""));
  EXPECT_THAT(c, HasSubstr("\"lower_process_limit\": 0.0000,"));
}

TEST(RenderCsv, NationalLinesCarryTheSpcIcons) {
  const std::string csv = RenderCsv(testing::RichReport());
  EXPECT_THAT(csv,
              HasSubstr(",falls-count.v1,Inpatient falls <all wards>,national,,33,,33,count,10,"
                        "12,improvement_low,none\r\n"));
  EXPECT_THAT(csv, HasSubstr(",falls-count.v1,Inpatient falls <all wards>,collaborative,oxford,12,,"
                             "12,count,4,6,,\r\n"));
  EXPECT_THAT(csv, HasSubstr(",national,,40,20000,2.0000,\"per 1,000 occupied bed days\",9,9,"
                             "common_cause,inconsistent\r\n"));
  // No SPC summary: empty.
  EXPECT_THAT(csv,
              HasSubstr(",news2-on-time.v1,NEWS2 observations on time,national,,0,0,,%,0,6,,\r\n"));
}

TEST(RenderText, KeyLines) {
  std::vector<std::string> lines = Lines(RenderText(FixedReport()));
  // Widths follow the contents: names 34 columns (the rate's name), values
  // 7 ("no data") plus the rate's unit (28), numerator / denominator 23
  // (its header), coverage 12 ("2/2 (100.0%)").
  ASSERT_EQ(lines.size(), 20u);
  EXPECT_EQ(lines[0],
            "National quarterly aggregate 2024/25 Q4 (Jan 2025 – Mar 2025), log position 7");
  EXPECT_EQ(lines[1], "Coverage: organisation-months reported / enrolled.");
  EXPECT_EQ(lines[2], "");
  EXPECT_EQ(lines[3], "PROCESS MEASURES");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "Topic: Deterioration of the patient (deterioration)");
  EXPECT_EQ(lines[6], "Measure / area                      Value                               "
                      " Numerator / denominator      Coverage");
  // 35 / 40 = 87.5%; coverage 2/3 = 53.3 eighths of 80 -> 53: six full
  // cells, five eighths, three empty.
  EXPECT_EQ(lines[7], "NEWS2 \"on time\"                        87.5%                          "
                      "                   35 / 40   2/3 (66.7%)  ██████▋░░░");
  EXPECT_EQ(lines[8], "  Oxford                            no data                             "
                      "                       –    0/1 (0.0%)  ░░░░░░░░░░");
  EXPECT_EQ(lines[9], "  Wessex                               87.5%                            "
                      "                 35 / 40  2/2 (100.0%)  ██████████");
  EXPECT_EQ(lines[10], "");
  EXPECT_EQ(lines[11], "OUTCOME MEASURES");
  EXPECT_EQ(lines[13], "Topic: Falls (falls)");
  // 1,234 falls; 5/6 -> 66.7 eighths -> 67: eight full, three eighths, one.
  EXPECT_EQ(lines[15], "Inpatient falls                       1,234                             "
                       "                   1,234   5/6 (83.3%)  ████████▍░");
  // 4 / 3,000 x 1,000 = 1.33 per 1,000; 2/6 -> 26.7 eighths -> 27.
  EXPECT_EQ(lines[17], "Falls with harm per 1,000 bed days     1.33 per 1,000 occupied bed days "
                       "               4 / 3,000   2/6 (33.3%)  ███▍░░░░░░");
  EXPECT_EQ(lines[18], "  Oxford                            no data                             "
                       "                       –    0/3 (0.0%)  ░░░░░░░░░░");
  EXPECT_EQ(lines[19], "  Wessex                               1.33 per 1,000 occupied bed days "
                       "               4 / 3,000   2/3 (66.7%)  ██████▋░░░");
}

TEST(RenderText, RoundsHalfUpFromTheExactQuotient) {
  v1::QuarterlyReport r = Skeleton();
  auto* topic = AddTopic(&r, v1::MEASURE_TYPE_PROCESS, "t", "T");
  auto* mr = topic->add_measures();
  *mr->mutable_measure() = MakeMeasure("p.v1", "P", "t", v1::MEASURE_TYPE_PROCESS,
                                       v1::UNIT_PROPORTION, 0, v1::AGGREGATION_RATIO,
                                       v1::DIRECTION_UP, "n", "d");
  // 1 / 16 = 6.25% exactly: half up gives 6.3 (a binary round-half-even
  // printf would give 6.2). 4 places in JSON: 6.2500.
  SetFigure(mr->mutable_national(), mr->measure(), 1, 16, 1, 1);
  // 2 / 3 = 66.666...% -> 66.7 and 66.6667.
  AddArea(mr, "x", 2, 3, 1, 1);
  std::string text = RenderText(r);
  EXPECT_THAT(text, HasSubstr(" 6.3%"));
  EXPECT_THAT(text, HasSubstr(" 66.7%"));
  std::string csv = RenderCsv(r);
  EXPECT_THAT(csv, HasSubstr(",1,16,6.2500,%,"));
  EXPECT_THAT(csv, HasSubstr(",2,3,66.6667,%,"));
}

TEST(RenderText, LongNamesAreCutAndReportedButZeroDenominatorShowsADash) {
  v1::QuarterlyReport r = Skeleton();
  auto* topic = AddTopic(&r, v1::MEASURE_TYPE_INPUT, "t", "T");
  auto* mr = topic->add_measures();
  *mr->mutable_measure() = MakeMeasure(
      "last.v1", std::string(70, 'x'), "t", v1::MEASURE_TYPE_INPUT, v1::UNIT_PROPORTION, 0,
      v1::AGGREGATION_LAST, v1::DIRECTION_UP, "n", "d");
  // Reported, but every denominator 0: no value.
  SetFigure(mr->mutable_national(), mr->measure(), 0, 0, 2, 4);
  std::vector<std::string> lines = Lines(RenderText(r));
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[7].substr(0, 62), std::string(59, 'x') + "…");
  EXPECT_THAT(lines[7], HasSubstr(" –  "));
  EXPECT_THAT(lines[7], HasSubstr("2/4 (50.0%)  █████░░░░░"));
}

TEST(Render, SameReportSameBytesAndContentTypes) {
  const v1::QuarterlyReport r = FixedReport();
  for (auto [format, type] : std::vector<std::pair<v1::ReportFormat, std::string>>{
           {v1::REPORT_FORMAT_TEXT, "text/plain; charset=utf-8"},
           {v1::REPORT_FORMAT_JSON, "application/json"},
           {v1::REPORT_FORMAT_CSV, "text/csv; charset=utf-8"},
           {v1::REPORT_FORMAT_HTML, "text/html; charset=utf-8"}}) {
    Rendered a = Render(r, format);
    Rendered b = Render(FixedReport(), format);
    EXPECT_EQ(a.content_type, type);
    EXPECT_FALSE(a.bytes.empty());
    EXPECT_EQ(a.bytes, b.bytes);
  }
  EXPECT_EQ(Render(r, v1::REPORT_FORMAT_TEXT).bytes, RenderText(r));
  EXPECT_EQ(Render(r, v1::REPORT_FORMAT_JSON).bytes, RenderJson(r));
  EXPECT_EQ(Render(r, v1::REPORT_FORMAT_CSV).bytes, RenderCsv(r));
  EXPECT_EQ(Render(r, v1::REPORT_FORMAT_HTML).bytes, RenderHtml(r));
  Rendered none = Render(r, v1::REPORT_FORMAT_UNSPECIFIED);
  EXPECT_TRUE(none.bytes.empty());
  EXPECT_TRUE(none.content_type.empty());
}

}  // namespace
}  // namespace psc::report
