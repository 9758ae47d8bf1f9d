// pscd, the all-in-one service on the embedded journal, as a real process
// over loopback gRPC: the golden report, refusals with field details,
// repeats, restarts, and a SIGKILL in the middle of a load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <thread>

#include "harness.h"
#include "psc/domain/sha256.h"
#include "psc/domain/strings.h"
#include "psc/eventlog/journal.h"
#include "psc/projection/projector.h"
#include "psc/projection/read_model.h"
#include "psc/report/report.h"
#include "psc/testing/fixtures.h"

namespace psc::e2e {
namespace {

using ::psc::testing::Obs;
using ::psc::testing::SmallCatalogue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PscdTest : public ::testing::Test {
 protected:
  void Start() {
    auto server = StartServer("pscd", {"--data-dir", dir_.path()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void Stop() {
    server_.process->Signal(SIGTERM);
    auto code = server_.process->Wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0);
    server_.process.reset();
  }
  v1::Receipt Submit(const v1::SubmitObservationsRequest& request) {
    v1::Receipt receipt;
    auto status = server_.ingest->SubmitObservations(Ctx().get(), request, &receipt);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return receipt;
  }
  v1::GetQuarterlyReportResponse Report(const std::string& quarter, uint64_t min_position,
                                        v1::ReportFormat format = v1::REPORT_FORMAT_CSV) {
    v1::GetQuarterlyReportRequest request;
    request.set_quarter(quarter);
    request.set_format(format);
    request.set_min_position(min_position);
    v1::GetQuarterlyReportResponse response;
    auto status = server_.query->GetQuarterlyReport(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  uint64_t LoadCatalogue() {
    v1::ChangeCatalogueRequest change;
    *change.mutable_change() = SmallCatalogue();
    v1::Receipt receipt;
    auto status = server_.catalog->ChangeCatalogue(Ctx().get(), change, &receipt);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return receipt.position();
  }

  ::psc::testing::TempDir dir_;
  Server server_;
};

// A small quarter worked out by hand: 2024/25 Q1 is April-June 2024.
TEST_F(PscdTest, GoldenQuarterlyReport) {
  Start();
  EXPECT_EQ(Health(server_), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(LoadCatalogue(), 1u);
  Submit(Submission("wessex-q1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                                  Obs("RHM", "falls-count.v1", "2024-05", 3),
                                  Obs("RHM", "falls-count.v1", "2024-06", 2),
                                  Obs("RDZ", "falls-count.v1", "2024-04", 4),
                                  Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                                  Obs("RHM", "falls-harm-rate.v1", "2024-05", 1, 2000),
                                  Obs("RDZ", "falls-harm-rate.v1", "2024-04", 2, 1000),
                                  Obs("RHM", "news2-on-time.v1", "2024-04", 90, 100),
                                  Obs("RHM", "staff-trained.v1", "2024-04", 10),
                                  Obs("RHM", "staff-trained.v1", "2024-06", 12),
                                  Obs("RDZ", "staff-trained.v1", "2024-05", 7)}));
  Submit(Submission("oxford-q1", {Obs("RTH", "falls-count.v1", "2024-04", 1),
                                  Obs("RTH", "falls-count.v1", "2024-05", 1),
                                  Obs("R1A", "falls-count.v1", "2024-06", 6),
                                  Obs("RTH", "falls-harm-rate.v1", "2024-06", 4, 4000),
                                  Obs("RTH", "news2-on-time.v1", "2024-04", 45, 50),
                                  Obs("RTH", "staff-trained.v1", "2024-04", 3)}));
  // A correction: RTH's April NEWS2 was 40 of 50, not 45.
  v1::Receipt last = Submit(Submission("oxford-q1-fix", {Obs("RTH", "news2-on-time.v1", "2024-04", 40, 50)}));
  EXPECT_EQ(last.position(), 4u);

  auto response = Report("2024/25 Q1", last.position());
  const v1::QuarterlyReport& report = response.report();
  EXPECT_EQ(report.first_month(), "2024-04");
  EXPECT_EQ(report.last_month(), "2024-06");
  EXPECT_EQ(report.as_of_position(), 4u);
  // Types in order input, process, outcome, balancing.
  ASSERT_EQ(report.types_size(), 4);
  EXPECT_EQ(report.types(0).type(), v1::MEASURE_TYPE_INPUT);
  EXPECT_EQ(report.types(3).type(), v1::MEASURE_TYPE_BALANCING);

  // Falls (sum): wessex RHM 5+3+2 + RDZ 4 = 14 from 4 of 6 org-months;
  // oxford RTH 1+1 + R1A 6 = 8 from 3 of 6; nation 22 from 7 of 12.
  const auto* falls = FindMeasure(report, "falls-count.v1");
  ASSERT_NE(falls, nullptr);
  EXPECT_EQ(falls->national().numerator(), 22);
  EXPECT_DOUBLE_EQ(falls->national().value(), 22.0);
  EXPECT_EQ(falls->national().coverage().reported(), 7);
  EXPECT_EQ(falls->national().coverage().expected(), 12);
  EXPECT_EQ(AreaOf(*falls, "wessex")->numerator(), 14);
  EXPECT_EQ(AreaOf(*falls, "oxford")->numerator(), 8);
  EXPECT_EQ(AreaOf(*falls, "oxford")->coverage().reported(), 3);

  // Falls with harm per 1,000 bed days (ratio of sums): wessex
  // (3+1+2)/(2000+2000+1000) = 1.2; oxford 4/4000 = 1.0; nation 10/9000.
  const auto* rate = FindMeasure(report, "falls-harm-rate.v1");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(rate->national().numerator(), 10);
  EXPECT_EQ(rate->national().denominator(), 9000);
  EXPECT_NEAR(rate->national().value(), 10.0 / 9000.0 * 1000.0, 1e-9);
  EXPECT_NEAR(AreaOf(*rate, "wessex")->value(), 1.2, 1e-9);
  EXPECT_NEAR(AreaOf(*rate, "oxford")->value(), 1.0, 1e-9);

  // NEWS2 on time (proportion, corrected): wessex 90/100 = 90%, oxford
  // 40/50 = 80%, nation 130/150. R1A is not enrolled: oxford expects 3.
  const auto* news2 = FindMeasure(report, "news2-on-time.v1");
  ASSERT_NE(news2, nullptr);
  EXPECT_EQ(news2->national().numerator(), 130);
  EXPECT_EQ(news2->national().denominator(), 150);
  EXPECT_NEAR(news2->national().value(), 130.0 / 150.0 * 100.0, 1e-9);
  EXPECT_NEAR(AreaOf(*news2, "oxford")->value(), 80.0, 1e-9);
  EXPECT_EQ(AreaOf(*news2, "oxford")->coverage().expected(), 3);

  // Staff trained (last): RHM's June 12 + RDZ's May 7 = 19 in wessex,
  // RTH's April 3 in oxford; nation 22.
  const auto* trained = FindMeasure(report, "staff-trained.v1");
  ASSERT_NE(trained, nullptr);
  EXPECT_EQ(trained->national().numerator(), 22);
  EXPECT_EQ(AreaOf(*trained, "wessex")->numerator(), 19);
  EXPECT_EQ(AreaOf(*trained, "oxford")->numerator(), 3);

  // Critical care admissions: nothing reported, no value.
  const auto* cc = FindMeasure(report, "cc-admissions.v1");
  ASSERT_NE(cc, nullptr);
  EXPECT_FALSE(cc->national().has_value());
  EXPECT_EQ(cc->national().coverage().reported(), 0);

  EXPECT_EQ(response.content_type(), "text/csv; charset=utf-8");
  EXPECT_THAT(response.rendered(), ::testing::HasSubstr("falls-count.v1"));

  // The national falls series per enrolled organisation (4 enrolled):
  // April (5+4+1)/4 = 2.5, May (3+1)/4 = 1, June (2+6)/4 = 2; trial limits.
  v1::GetSeriesRequest series;
  series.set_measure_id("falls-count.v1");
  series.set_min_position(4);
  v1::SpcChart chart;
  ASSERT_TRUE(server_.query->GetSpcChart(Ctx().get(), series, &chart).ok());
  ASSERT_EQ(chart.points_size(), 3);
  EXPECT_DOUBLE_EQ(chart.points(0).value(), 2.5);
  EXPECT_DOUBLE_EQ(chart.points(1).value(), 1.0);
  EXPECT_DOUBLE_EQ(chart.points(2).value(), 2.0);
  EXPECT_NEAR(chart.summary().mean(), 5.5 / 3.0, 1e-12);
  EXPECT_TRUE(chart.summary().trial_limits());
  EXPECT_TRUE(chart.summary().per_organisation());

  // The same id again with other rows: original receipt, nothing appended,
  // the report bytes unchanged.
  v1::Receipt again;
  ASSERT_TRUE(server_.ingest
                  ->SubmitObservations(Ctx().get(),
                                       Submission("wessex-q1", {Obs("RHM", "falls-count.v1", "2024-04", 500)}),
                                       &again)
                  .ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.position(), 2u);
  EXPECT_EQ(Report("2024/25 Q1", 4).rendered(), response.rendered());

  // Withdraw RDZ's April falls: wessex falls drop from 14 to 10, and the
  // value's history tells the whole story.
  v1::WithdrawObservationsRequest withdraw;
  withdraw.set_withdrawal_id("w-1");
  *withdraw.add_keys() = ::psc::testing::Key("RDZ", "falls-count.v1", "2024-04");
  withdraw.set_reason("duplicate of a community return");
  v1::Receipt withdrawn;
  ASSERT_TRUE(server_.ingest->WithdrawObservations(Ctx().get(), withdraw, &withdrawn).ok());
  EXPECT_EQ(withdrawn.position(), 5u);
  auto after = Report("2024/25 Q1", 5).report();
  EXPECT_EQ(AreaOf(*FindMeasure(after, "falls-count.v1"), "wessex")->numerator(), 10);
  EXPECT_EQ(FindMeasure(after, "falls-count.v1")->national().coverage().reported(), 6);
  v1::GetValueHistoryRequest history_request;
  *history_request.mutable_key() = ::psc::testing::Key("RDZ", "falls-count.v1", "2024-04");
  v1::ValueHistory history;
  ASSERT_TRUE(server_.query->GetValueHistory(Ctx().get(), history_request, &history).ok());
  ASSERT_EQ(history.changes_size(), 2);
  EXPECT_EQ(history.changes(0).kind(), v1::VALUE_CHANGE_KIND_SUBMITTED);
  EXPECT_EQ(history.changes(0).request_id(), "wessex-q1");
  EXPECT_EQ(history.changes(0).numerator(), 4);
  EXPECT_EQ(history.changes(0).principal(), "local");
  EXPECT_EQ(history.changes(1).kind(), v1::VALUE_CHANGE_KIND_WITHDRAWN);
  EXPECT_EQ(history.changes(1).previous_numerator(), 4);
  EXPECT_EQ(history.changes(1).reason(), "duplicate of a community return");
  response = Report("2024/25 Q1", 5);

  // A restart reads the same state back.
  Stop();
  Start();
  EXPECT_EQ(Report("2024/25 Q1", 5).rendered(), response.rendered());
}

// A report call says how long the server spent on it (server-timing), and
// a second call at the same position gets the same report; a new event
// gives a new one.
TEST_F(PscdTest, ReportCarriesServerTimingAndIsBuiltOncePerPosition) {
  Start();
  LoadCatalogue();
  v1::Receipt first = Submit(Submission("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)}));
  auto call = [&](uint64_t min_position, double* server_ms) {
    v1::GetQuarterlyReportRequest request;
    request.set_quarter("2024/25 Q1");
    request.set_min_position(min_position);
    v1::GetQuarterlyReportResponse response;
    auto context = Ctx();
    auto status = server_.query->GetQuarterlyReport(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const auto& trailers = context->GetServerTrailingMetadata();
    auto timing = trailers.find("server-timing");
    EXPECT_NE(timing, trailers.end());
    if (timing != trailers.end()) {
      const std::string value(timing->second.data(), timing->second.size());
      EXPECT_THAT(value, ::testing::StartsWith("report;dur="));
      *server_ms = std::stod(value.substr(std::string("report;dur=").size()));
    }
    return response.report();
  };
  double built_ms = -1, again_ms = -1;
  v1::QuarterlyReport built = call(first.position(), &built_ms);
  v1::QuarterlyReport again = call(first.position(), &again_ms);
  EXPECT_GE(built_ms, 0);
  EXPECT_GE(again_ms, 0);
  EXPECT_EQ(built.as_of_position(), first.position());
  EXPECT_EQ(again.SerializeAsString(), built.SerializeAsString());

  v1::Receipt second = Submit(Submission("s2", {Obs("RDZ", "falls-count.v1", "2024-04", 4)}));
  double later_ms = -1;
  v1::QuarterlyReport later = call(second.position(), &later_ms);
  EXPECT_EQ(later.as_of_position(), second.position());
  EXPECT_NE(later.SerializeAsString(), built.SerializeAsString());
  EXPECT_GE(later_ms, 0);
}

TEST_F(PscdTest, PublishedQuarterIsFrozenAndRevisionsAreListed) {
  Start();
  LoadCatalogue();
  Submit(Submission("q1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                           Obs("RDZ", "falls-count.v1", "2024-04", 4)}));
  const std::string text_before = Report("2024/25 Q1", 2, v1::REPORT_FORMAT_TEXT).rendered();
  const std::string csv_before = Report("2024/25 Q1", 2, v1::REPORT_FORMAT_CSV).rendered();
  const std::string html_before = Report("2024/25 Q1", 2, v1::REPORT_FORMAT_HTML).rendered();

  v1::PublishQuarterRequest publish;
  publish.set_publication_id("pub-q1");
  publish.set_quarter("2024/25 Q1");
  v1::Receipt published;
  ASSERT_TRUE(server_.publication->PublishQuarter(Ctx().get(), publish, &published).ok());
  EXPECT_EQ(published.position(), 3u);

  // RHM corrects April 5 -> 2 after publication.
  v1::Receipt fix = Submit(Submission("q1-fix", {Obs("RHM", "falls-count.v1", "2024-04", 2)}));
  v1::GetPublicationRequest get;
  get.set_quarter("2024/25 Q1");
  get.set_min_position(fix.position());
  v1::Publication publication;
  ASSERT_TRUE(server_.publication->GetPublication(Ctx().get(), get, &publication).ok());
  EXPECT_EQ(publication.position(), 3u);
  EXPECT_EQ(publication.published().as_of_position(), 2u);
  ASSERT_EQ(publication.published().renderings_size(), 4);
  EXPECT_EQ(publication.published().renderings(3).content_type(), "text/html; charset=utf-8");
  EXPECT_EQ(publication.published().renderings(3).bytes(), html_before);
  // The bytes are those of the report at publication, with their hash.
  EXPECT_EQ(publication.published().renderings(0).bytes(), text_before);
  EXPECT_EQ(publication.published().renderings(2).bytes(), csv_before);
  EXPECT_EQ(publication.published().renderings(0).sha256(), Sha256Hex(text_before));
  // Revisions: falls 9 -> 6 nationally and in wessex (numerator and value).
  std::vector<std::string> revised;
  for (const auto& r : publication.revisions()) {
    revised.push_back(StrCat(r.measure_id(), " ", r.area(), " ", r.field(), " ",
                             static_cast<int64_t>(r.published()), "->",
                             static_cast<int64_t>(r.current())));
  }
  EXPECT_THAT(revised, ElementsAre("falls-count.v1 national numerator 9->6",
                                   "falls-count.v1 national value 9->6",
                                   "falls-count.v1 wessex numerator 9->6",
                                   "falls-count.v1 wessex value 9->6"));

  // Publishing the same id again changes nothing; a restart serves the same
  // bytes.
  v1::Receipt again;
  ASSERT_TRUE(server_.publication->PublishQuarter(Ctx().get(), publish, &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.position(), 3u);
  Stop();
  Start();
  v1::Publication after_restart;
  ASSERT_TRUE(server_.publication->GetPublication(Ctx().get(), get, &after_restart).ok());
  EXPECT_EQ(after_restart.published().renderings(0).bytes(), text_before);
  EXPECT_EQ(after_restart.revisions_size(), 4);

  // A public publication: only the CSV, after disclosure control. Falls
  // now: national 2 + 4 = 6 exact; wessex 6 is below 8, so suppressed.
  v1::PublishQuarterRequest public_request = publish;
  public_request.set_publication_id("pub-q1-public");
  public_request.set_public_(true);
  v1::Receipt public_receipt;
  ASSERT_TRUE(
      server_.publication->PublishQuarter(Ctx().get(), public_request, &public_receipt).ok());
  v1::Publication public_publication;
  ASSERT_TRUE(server_.publication->GetPublication(Ctx().get(), get, &public_publication).ok());
  EXPECT_EQ(public_publication.position(), public_receipt.position());
  EXPECT_EQ(public_publication.published().disclosure_policy(), "HES small-number rule");
  ASSERT_EQ(public_publication.published().renderings_size(), 1);
  const std::string& public_csv = public_publication.published().renderings(0).bytes();
  EXPECT_THAT(public_csv, ::testing::HasSubstr("falls-count.v1,national,,6,"));
  EXPECT_THAT(public_csv, ::testing::HasSubstr("falls-count.v1,collaborative,wessex,*,"));
  EXPECT_EQ(public_publication.revisions_size(), 0);
}

TEST_F(PscdTest, SignedOffQuarterShowsLaterChangesAsRevisions) {
  Start();
  LoadCatalogue();
  Submit(Submission("q1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                           Obs("RDZ", "falls-count.v1", "2024-04", 4)}));
  v1::SignOffQuarterRequest sign_off;
  sign_off.set_sign_off_id("wessex-q1");
  sign_off.set_quarter("2024/25 Q1");
  sign_off.set_collaborative_id("nowhere");
  v1::Receipt signed_off;
  auto status = server_.publication->SignOffQuarter(Ctx().get(), sign_off, &signed_off);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("collaborative_id"));

  sign_off.set_collaborative_id("wessex");
  ASSERT_TRUE(server_.publication->SignOffQuarter(Ctx().get(), sign_off, &signed_off).ok());
  EXPECT_EQ(signed_off.position(), 3u);
  // Wessex appears under all five measures of the catalogue.
  EXPECT_EQ(signed_off.rows_accepted(), 5u);
  v1::Receipt again;
  ASSERT_TRUE(server_.publication->SignOffQuarter(Ctx().get(), sign_off, &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.position(), 3u);

  // Nothing changed yet: signed off, no revisions.
  auto before = Report("2024/25 Q1", 3, v1::REPORT_FORMAT_TEXT);
  ASSERT_EQ(before.report().sign_offs_size(), 1);
  EXPECT_EQ(before.report().sign_offs(0).revisions_size(), 0);
  EXPECT_THAT(before.rendered(), HasSubstr("Wessex: signed off as wessex-q1 at log position 3 by "
                                           "local\n  No revisions.\n"));

  // RHM corrects April 5 -> 2: Wessex's signed-off 9 falls become 6.
  v1::Receipt fix = Submit(Submission("q1-fix", {Obs("RHM", "falls-count.v1", "2024-04", 2)}));
  auto after = Report("2024/25 Q1", fix.position(), v1::REPORT_FORMAT_TEXT);
  ASSERT_EQ(after.report().sign_offs_size(), 1);
  const v1::SignOff& s = after.report().sign_offs(0);
  EXPECT_EQ(s.collaborative_id(), "wessex");
  EXPECT_EQ(s.position(), 3u);
  EXPECT_EQ(s.as_of_position(), 2u);
  std::vector<std::string> revised;
  for (const auto& r : s.revisions()) {
    revised.push_back(StrCat(r.measure_id(), " ", r.area(), " ", r.field(), " ",
                             static_cast<int64_t>(r.published()), "->",
                             static_cast<int64_t>(r.current())));
  }
  EXPECT_THAT(revised, ElementsAre("falls-count.v1 wessex numerator 9->6",
                                   "falls-count.v1 wessex value 9->6"));
  EXPECT_THAT(after.rendered(), HasSubstr("  falls-count.v1 / Wessex numerator: 9 -> 6\n"));

  // Funnel plots compare ratios only: a count is refused naming the field;
  // a rate with nothing reported has no centre yet.
  v1::GetFunnelRequest funnel_request;
  funnel_request.set_measure_id("falls-count.v1");
  funnel_request.set_quarter("2024/25 Q1");
  v1::Funnel funnel;
  status = server_.query->GetFunnel(Ctx().get(), funnel_request, &funnel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("measure_id"));
  funnel_request.set_measure_id("falls-harm-rate.v1");
  status = server_.query->GetFunnel(Ctx().get(), funnel_request, &funnel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  Submit(Submission("rates", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                              Obs("RDZ", "falls-harm-rate.v1", "2024-04", 1, 1000)}));
  funnel_request.set_collaborative_id("wessex");
  funnel_request.set_min_position(fix.position() + 1);
  ASSERT_TRUE(server_.query->GetFunnel(Ctx().get(), funnel_request, &funnel).ok());
  // 4 per 3,000 bed days nationally = 1.333 per 1,000; RDZ then RHM.
  EXPECT_NEAR(funnel.centre(), 4000.0 / 3000.0, 1e-9);
  ASSERT_EQ(funnel.units_size(), 2);
  EXPECT_EQ(funnel.units(0).id(), "RDZ");
  EXPECT_NEAR(funnel.units(1).value(), 1.5, 1e-9);
}

TEST_F(PscdTest, LimitsChangesRebaseTheChartWithReasonAndAuthor) {
  Start();
  LoadCatalogue();
  std::vector<v1::Observation> rows;
  for (int month = 1; month <= 12; ++month) {
    const std::string m = StrCat(month < 10 ? "2024-0" : "2024-", month);
    rows.push_back(Obs("RHM", "falls-count.v1", m, month <= 6 ? 10 : 4));
  }
  v1::Receipt loaded = Submit(Submission("year", rows));

  v1::ChangeSpcLimitsRequest bad;
  bad.mutable_change()->set_change_id("rebase-1");
  bad.mutable_change()->set_measure_id("falls-count.v1");
  bad.mutable_change()->set_fix_after_points(1);
  v1::Receipt receipt;
  auto status = server_.catalog->ChangeSpcLimits(Ctx().get(), bad, &receipt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("change.fix_after_points", "change.reason"));

  v1::ChangeSpcLimitsRequest rebase;
  rebase.mutable_change()->set_change_id("rebase-1");
  rebase.mutable_change()->set_measure_id("falls-count.v1");
  rebase.mutable_change()->set_collaborative_id("wessex");
  rebase.mutable_change()->set_rebase_month("2024-07");
  rebase.mutable_change()->set_reason("falls bundle on every ward from July");
  ASSERT_TRUE(server_.catalog->ChangeSpcLimits(Ctx().get(), rebase, &receipt).ok());
  EXPECT_EQ(receipt.position(), loaded.position() + 1);

  v1::GetSeriesRequest series;
  series.set_measure_id("falls-count.v1");
  series.set_collaborative_id("wessex");
  series.set_min_position(receipt.position());
  v1::SpcChart chart;
  ASSERT_TRUE(server_.query->GetSpcChart(Ctx().get(), series, &chart).ok());
  // Wessex has 2 organisations enrolled: 5 falls each to June, 2 after.
  ASSERT_EQ(chart.segments_size(), 2);
  EXPECT_EQ(chart.segments(0).last_month(), "2024-06");
  EXPECT_DOUBLE_EQ(chart.segments(0).mean(), 5.0);
  EXPECT_EQ(chart.segments(1).first_month(), "2024-07");
  EXPECT_DOUBLE_EQ(chart.segments(1).mean(), 2.0);
  EXPECT_EQ(chart.segments(1).rebase_reason(), "falls bundle on every ward from July");
  EXPECT_EQ(chart.segments(1).rebase_author(), "local");
  // Within each segment every month is on its mean: no special cause.
  for (const auto& p : chart.points()) EXPECT_EQ(p.special_cause(), "") << p.month();

  // The national chart is another series, not rebased: 10/4 = 2.5 per
  // enrolled organisation to June, 4/3 after; mean 1.9167, one moving range
  // of 1.1667 in 11, so limits 1.9167 +/- 0.2821 and every month is outside.
  series.clear_collaborative_id();
  ASSERT_TRUE(server_.query->GetSpcChart(Ctx().get(), series, &chart).ok());
  EXPECT_EQ(chart.segments_size(), 1);
  EXPECT_EQ(chart.points(0).special_cause(), "outside_limits");
  EXPECT_EQ(chart.points(11).special_cause(), "outside_limits");

  v1::Receipt again;
  ASSERT_TRUE(server_.catalog->ChangeSpcLimits(Ctx().get(), rebase, &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.position(), receipt.position());
}

TEST_F(PscdTest, MembershipChangeMovesCollaborativeFiguresAndNotTheNation) {
  Start();
  LoadCatalogue();
  Submit(Submission("q1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                           Obs("RHM", "falls-count.v1", "2024-05", 3),
                           Obs("RHM", "falls-count.v1", "2024-06", 2),
                           Obs("RDZ", "falls-count.v1", "2024-04", 4),
                           Obs("RTH", "falls-count.v1", "2024-04", 1),
                           Obs("RHM", "staff-trained.v1", "2024-04", 10),
                           Obs("RHM", "staff-trained.v1", "2024-06", 12),
                           Obs("RDZ", "staff-trained.v1", "2024-05", 7),
                           Obs("RTH", "staff-trained.v1", "2024-04", 3)}));
  // 2024/25 Q1 before: falls wessex RHM 5+3+2 + RDZ 4 = 14, oxford 1;
  // staff trained (last) wessex RHM's June 12 + RDZ's 7 = 19, oxford 3.
  auto before = Report("2024/25 Q1", 2).report();
  const auto* falls = FindMeasure(before, "falls-count.v1");
  ASSERT_NE(falls, nullptr);
  EXPECT_EQ(AreaOf(*falls, "wessex")->numerator(), 14);
  EXPECT_EQ(AreaOf(*falls, "oxford")->numerator(), 1);
  EXPECT_EQ(falls->national().numerator(), 15);
  EXPECT_EQ(AreaOf(*FindMeasure(before, "staff-trained.v1"), "wessex")->numerator(), 19);

  // Recorded afterwards: RHM belongs to oxford from May 2024.
  v1::ChangeCatalogueRequest move;
  move.mutable_change()->set_change_id("rhm-to-oxford");
  auto* membership = move.mutable_change()->add_memberships();
  membership->set_ods_code("RHM");
  membership->set_collaborative_id("oxford");
  membership->set_from_month("2024-05");
  v1::Receipt moved;
  auto status = server_.catalog->ChangeCatalogue(Ctx().get(), move, &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(moved.rows_accepted(), 1u);

  // After: RHM's May and June go to oxford, April stays. Falls wessex 5 + 4
  // = 9 of 4 org-months expected (RDZ 3, RHM 1), oxford 1 + 3 + 2 = 6 of 8
  // (RTH 3, R1A 3, RHM 2); staff trained: RHM's June 12 is oxford's now,
  // wessex 7, oxford 15. The nation: 15 of 12 and 22, as before.
  auto after = Report("2024/25 Q1", moved.position()).report();
  falls = FindMeasure(after, "falls-count.v1");
  ASSERT_NE(falls, nullptr);
  EXPECT_EQ(AreaOf(*falls, "wessex")->numerator(), 9);
  EXPECT_EQ(AreaOf(*falls, "wessex")->coverage().expected(), 4);
  EXPECT_EQ(AreaOf(*falls, "oxford")->numerator(), 6);
  EXPECT_EQ(AreaOf(*falls, "oxford")->coverage().expected(), 8);
  EXPECT_EQ(falls->national().numerator(), 15);
  EXPECT_EQ(falls->national().coverage().expected(), 12);
  const auto* trained = FindMeasure(after, "staff-trained.v1");
  EXPECT_EQ(AreaOf(*trained, "wessex")->numerator(), 7);
  EXPECT_EQ(AreaOf(*trained, "oxford")->numerator(), 15);
  EXPECT_EQ(trained->national().numerator(), 22);

  v1::GetCatalogueRequest get;
  get.set_min_position(moved.position());
  v1::Catalogue catalogue;
  ASSERT_TRUE(server_.catalog->GetCatalogue(Ctx().get(), get, &catalogue).ok());
  ASSERT_EQ(catalogue.memberships_size(), 1);
  EXPECT_EQ(catalogue.memberships(0).collaborative_id(), "oxford");
  EXPECT_EQ(catalogue.memberships(0).from_month(), "2024-05");
}

TEST_F(PscdTest, BadBatchIsRefusedWithFieldDetailsAndNothingAppended) {
  Start();
  LoadCatalogue();
  v1::Receipt receipt;
  auto status = server_.ingest->SubmitObservations(
      Ctx().get(),
      Submission("bad", {Obs("XXX", "falls-count.v1", "2024-04", 1),
                         Obs("RHM", "falls-count.v1", "2099-01", 1),
                         Obs("RHM", "falls-harm-rate.v1", "2024-04", 1),
                         Obs("RHM", "news2-on-time.v1", "2024-04", 9, 5)}),
      &receipt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("rows[0].ods_code", "rows[1].month",
                                                  "rows[2].denominator", "rows[3].numerator"));
  v1::ProjectionStatus projection;
  ASSERT_TRUE(server_.query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &projection).ok());
  EXPECT_EQ(projection.applied_position(), 1u);

  // Over the default bounds: 10,001 rows; and 5 MiB of rows (under the
  // transport's limit, so the refusal names the field, not a transport
  // error). RESOURCE_EXHAUSTED, and nothing written.
  v1::SubmitObservationsRequest many;
  many.set_submission_id("many");
  for (int i = 0; i < 10'001; ++i) *many.add_rows() = Obs("RHM", "falls-count.v1", "2024-04", 1);
  status = server_.ingest->SubmitObservations(Ctx().get(), many, &receipt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("rows"));
  v1::SubmitObservationsRequest large;
  large.set_submission_id("large");
  for (int i = 0; i < 5; ++i) {
    *large.add_rows() = Obs(std::string(1 << 20, 'R'), "falls-count.v1", "2024-04", 1);
  }
  status = server_.ingest->SubmitObservations(Ctx().get(), large, &receipt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(ViolatedFields(status), ::testing::Contains("rows"));
  ASSERT_TRUE(server_.query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &projection).ok());
  EXPECT_EQ(projection.applied_position(), 1u);

  // A position the log has not reached: the call waits out its deadline.
  v1::GetQuarterlyReportRequest ahead;
  ahead.set_quarter("2024/25 Q1");
  ahead.set_min_position(99);
  v1::GetQuarterlyReportResponse unused;
  auto short_deadline = Ctx(1);
  status = server_.query->GetQuarterlyReport(short_deadline.get(), ahead, &unused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  v1::ChangeCatalogueRequest early;
  *early.mutable_change() = SmallCatalogue("c-later");
  early.set_min_position(99);
  v1::Receipt no_receipt;
  status = server_.catalog->ChangeCatalogue(Ctx(1).get(), early, &no_receipt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);

  v1::GetQuarterlyReportRequest bad_quarter;
  bad_quarter.set_quarter("2024 Q1");
  v1::GetQuarterlyReportResponse ignored;
  status = server_.query->GetQuarterlyReport(Ctx().get(), bad_quarter, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("quarter"));
}

TEST_F(PscdTest, SigkillMidLoadThenRestartEqualsACleanRebuild) {
  Start();
  LoadCatalogue();
  const auto load = CrashLoad();
  std::atomic<size_t> next{0};
  std::atomic<size_t> accepted{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (size_t i = next++; i < load.size(); i = next++) {
        v1::Receipt receipt;
        if (!server_.ingest->SubmitObservations(Ctx(10).get(), load[i], &receipt).ok()) return;
        ++accepted;
      }
    });
  }
  while (accepted < 120) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_.process->Signal(SIGKILL);
  for (auto& t : clients) t.join();
  ASSERT_EQ(*server_.process->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  ASSERT_LT(accepted.load(), load.size()) << "the kill came too late to interrupt the load";

  // Restart and send everything again, as clients retrying would.
  Start();
  uint64_t last = 0;
  size_t duplicates = 0;
  for (const auto& request : load) {
    v1::Receipt receipt = Submit(request);
    last = std::max<uint64_t>(last, receipt.position());
    duplicates += receipt.duplicate() ? 1 : 0;
  }
  EXPECT_GE(duplicates, 120u);
  std::string served = Report("2024/25 Q1", last, v1::REPORT_FORMAT_TEXT).rendered();
  std::string served_q4 = Report("2023/24 Q4", last, v1::REPORT_FORMAT_CSV).rendered();

  // Re-sending every submission once more changes nothing.
  for (const auto& request : load) EXPECT_TRUE(Submit(request).duplicate());
  v1::ProjectionStatus status;
  ASSERT_TRUE(server_.query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.applied_position(), last);
  EXPECT_EQ(status.refused_events(), 0u);
  EXPECT_EQ(Report("2024/25 Q1", last, v1::REPORT_FORMAT_TEXT).rendered(), served);
  Stop();

  // A clean rebuild of the same journal gives the same bytes.
  eventlog::Journal::Options read_only;
  read_only.read_only = true;
  auto journal = eventlog::Journal::Open(dir_.Sub("journal"), read_only);
  ASSERT_TRUE(journal.ok()) << journal.status();
  ASSERT_EQ((*journal)->End()->value(), last);
  ::psc::testing::TempDir clean_dir;
  {
    auto clean = projection::ReadModel::Open(clean_dir.path());
    ASSERT_TRUE(clean.ok());
    projection::Projector projector(**clean, **journal);
    ASSERT_TRUE(projector.CatchUp(nullptr, std::chrono::seconds(10)).ok());
    auto view = (*clean)->Snapshot();
    EXPECT_EQ(report::RenderText(*report::BuildQuarterlyReport(view, *Quarter::Parse("2024/25 Q1"))),
              served);
    EXPECT_EQ(report::RenderCsv(*report::BuildQuarterlyReport(view, *Quarter::Parse("2023/24 Q4"))),
              served_q4);
  }
  journal->reset();
  EXPECT_EQ(DumpOf(dir_.Sub("readmodel")), DumpOf(clean_dir.path()));
}

}  // namespace
}  // namespace psc::e2e
