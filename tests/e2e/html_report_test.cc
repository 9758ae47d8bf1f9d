// The HTML report from a running pscd, opened in a real browser: headless
// Chromium renders it (a screenshot of the right size), loads it without a
// script or console error, and its DOM holds one SPC chart for every
// measure whose report carries chart points. `psc report --format html
// --output FILE` writes the same bytes as the gRPC answer.
//
// Needs /usr/bin/chromium (deploy/debian-packages.txt installs it); skipped
// without it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/fixtures.h"

namespace psc::e2e {
namespace {

using ::psc::testing::Obs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kChromium[] = "/usr/bin/chromium";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
}

class HtmlReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed";
    auto server = StartServer("pscd", {"--data-dir", dir_.Sub("pscd")});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Headless Chromium on `url` with `flags`, its own profile and home in the
  // test's folder, at most 120 s (coreutils timeout ends only the browser it
  // started); stdout returned, stderr kept in `stderr_path`.
  CommandResult Chromium(const std::string& flags, const std::string& url,
                         const std::string& stderr_path) {
    const std::string command =
        StrCat("HOME='", dir_.Sub("home"), "' timeout -k 10 120 ", kChromium,
               " --headless=new --no-sandbox --disable-gpu --no-first-run --disable-extensions "
               "--user-data-dir='",
               dir_.Sub("profile"), "' ", flags, " '", url, "' 2>'", stderr_path, "'");
    return RunCommand(command);
  }

  ::psc::testing::TempDir dir_;
  Server server_;
};

TEST_F(HtmlReportTest, PageRendersInAHeadlessBrowser) {
  // The small catalogue, a year of falls and a quarter of the rest, and a
  // piece of learning linked to the falls measures.
  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = ::psc::testing::SmallCatalogue();
  v1::Receipt receipt;
  ASSERT_TRUE(server_.catalog->ChangeCatalogue(Ctx().get(), change, &receipt).ok());
  std::vector<v1::Observation> rows;
  for (int month = 1; month <= 12; ++month) {
    const std::string m = StrCat("2024-", month < 10 ? "0" : "", month);
    rows.push_back(Obs("RHM", "falls-count.v1", m, 4 + month % 3));
    rows.push_back(Obs("RDZ", "falls-count.v1", m, 2 + month % 2));
    rows.push_back(Obs("RHM", "falls-harm-rate.v1", m, 3 + month % 2, 2000));
    rows.push_back(Obs("RTH", "falls-harm-rate.v1", m, 2, 1500 + 10 * month));
  }
  for (const char* m : {"2024-10", "2024-11", "2024-12"}) {
    rows.push_back(Obs("RHM", "news2-on-time.v1", m, 88, 100));
    rows.push_back(Obs("RTH", "news2-on-time.v1", m, 41, 50));
  }
  v1::Receipt submitted;
  auto status =
      server_.ingest->SubmitObservations(Ctx().get(), Submission("year-2024", rows), &submitted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ShareLearningRequest learning;
  learning.set_min_position(submitted.position());
  v1::Learning* l = learning.mutable_learning();
  l->set_learning_id("wessex-huddles");
  l->set_collaborative_id("wessex");
  l->set_topic_id("falls");
  l->set_kind(v1::LEARNING_KIND_CASE_STUDY);
  l->set_month("2024-11");
  l->set_title("Safety huddles <every shift> & \"falls crosses\"");
  l->set_summary("Ward huddles at each handover.");
  l->add_measure_ids("falls-count.v1");
  v1::Receipt shared;
  status = server_.ingest->ShareLearning(Ctx().get(), learning, &shared);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::GetQuarterlyReportRequest request;
  request.set_quarter("2024/25 Q3");
  request.set_format(v1::REPORT_FORMAT_HTML);
  request.set_min_position(shared.position());
  v1::GetQuarterlyReportResponse response;
  status = server_.query->GetQuarterlyReport(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.content_type(), "text/html; charset=utf-8");
  const std::string& html = response.rendered();
  ASSERT_FALSE(html.empty());

  // What the structured report in the same answer says the page must hold.
  size_t measures = 0, with_points = 0, with_spc = 0;
  for (const auto& type : response.report().types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        ++measures;
        if (m.spc_points_size() > 0) ++with_points;
        if (m.has_spc()) ++with_spc;
      }
    }
  }
  ASSERT_EQ(measures, 5u);
  // Falls, falls with harm and NEWS2 have data: each has its chart's points.
  EXPECT_EQ(with_spc, 3u);
  EXPECT_EQ(with_points, 3u);

  // psc writes the same bytes to a file.
  const std::string page = dir_.Sub("report.html");
  CommandResult cli = RunCommand(StrCat(::psc::testing::BinPath("psc"),
                                        " report --quarter '2024/25 Q3' --format html",
                                        " --min-position ", shared.position(), " --output '", page,
                                        "' --server ", server_.address, " 2>&1"));
  ASSERT_EQ(cli.code, 0) << cli.output;
  EXPECT_THAT(cli.output, HasSubstr("(text/html; charset=utf-8) to " + page));
  ASSERT_EQ(ReadAll(page), html);

  // A screenshot of the page as a browser lays it out.
  const std::string png = dir_.Sub("report.png");
  CommandResult shot = Chromium(StrCat("--window-size=1280,4000 --screenshot='", png, "'"),
                                "file://" + page, dir_.Sub("screenshot.log"));
  ASSERT_EQ(shot.code, 0) << ReadAll(dir_.Sub("screenshot.log"));
  const std::string image = ReadAll(png);
  ASSERT_GT(image.size(), 20000u) << "a near-empty screenshot";
  ASSERT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  ASSERT_EQ(image.substr(12, 4), "IHDR");
  EXPECT_EQ(BigEndian32(image, 16), 1280u);
  EXPECT_EQ(BigEndian32(image, 20), 4000u);

  // The DOM after loading, with the browser's log on stderr: no script
  // error, no console message, nothing blocked.
  const std::string log = dir_.Sub("dom.log");
  CommandResult dom = Chromium("--enable-logging=stderr --v=0 --dump-dom", "file://" + page, log);
  ASSERT_EQ(dom.code, 0) << ReadAll(log);
  const std::string browser_log = ReadAll(log);
  EXPECT_THAT(browser_log, Not(HasSubstr("CONSOLE"))) << browser_log;
  EXPECT_THAT(browser_log, Not(HasSubstr("Uncaught"))) << browser_log;
  EXPECT_THAT(browser_log, Not(HasSubstr("net::ERR_"))) << browser_log;
  const std::string& d = dom.output;
  ASSERT_THAT(d, HasSubstr("</html>"));
  EXPECT_EQ(Count(d, "<h1"), 1u);
  EXPECT_THAT(d, HasSubstr("<html lang=\"en\">"));
  EXPECT_THAT(d, HasSubstr("<main id=\"main\""));
  EXPECT_THAT(d, HasSubstr("National quarterly aggregate 2024/25 Q3"));
  EXPECT_EQ(Count(d, "<section class=\"measure\""), measures);
  // One chart per measure whose report carries chart points; the others
  // say why there is none.
  EXPECT_EQ(Count(d, "class=\"spc-chart\""), with_points);
  EXPECT_EQ(Count(d, "class=\"no-chart\""), measures - with_points);
  // Falls with harm (a rate) and NEWS2 (a proportion) compare Wessex and
  // Oxford on a funnel plot; counts have none.
  EXPECT_EQ(Count(d, "class=\"funnel-plot\""), 2u);
  // The learning linked to falls is marked on its chart.
  EXPECT_EQ(Count(d, "<g class=\"change\">"), 1u);
  EXPECT_THAT(d, HasSubstr("<ol class=\"chart-learning\">"));
  for (const auto& type : response.report().types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        EXPECT_EQ(
            Count(d, StrCat("class=\"spc-chart\" data-measure-id=\"", m.measure().id(), "\"")),
            m.spc_points_size() > 0 ? 1u : 0u)
            << m.measure().id();
      }
    }
  }
  // The learning, escaped in the page and back as text in the DOM.
  EXPECT_THAT(d, HasSubstr("Safety huddles &lt;every shift&gt; &amp; \"falls crosses\""));
  EXPECT_THAT(d, Not(HasSubstr("<every shift>")));
  EXPECT_THAT(d, HasSubstr("<section id=\"sign-offs\""));
  EXPECT_THAT(d, HasSubstr("<section id=\"publication\""));
}

}  // namespace
}  // namespace psc::e2e
