// The HTML page of the quarterly report: its pieces, exactly, for a report
// built by hand (rich_report.h), its structure, and that it needs nothing
// from the network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "psc/report/render.h"
#include "rich_report.h"

namespace psc::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The text between `from` (included) and the first `to` after it.
std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  size_t a = text.find(from);
  if (a == std::string::npos) return "";
  size_t b = text.find(to, a);
  return text.substr(a, b == std::string::npos ? std::string::npos : b + to.size() - a);
}

class RenderHtmlTest : public ::testing::Test {
 protected:
  const v1::QuarterlyReport report_ = testing::RichReport();
  const std::string html_ = RenderHtml(report_);
};

TEST_F(RenderHtmlTest, OneChartPerMeasureWithPointsAndNoneWithout) {
  EXPECT_EQ(Count(html_, "<svg class=\"spc-chart\""), 2u);
  EXPECT_EQ(
      Count(html_, "<svg class=\"spc-chart\" data-measure-id=\"falls-count.v1\" role=\"img\""), 1u);
  EXPECT_EQ(
      Count(html_, "<svg class=\"spc-chart\" data-measure-id=\"falls-harm-rate.v1\" role=\"img\""),
      1u);
  EXPECT_THAT(html_, Not(HasSubstr("data-measure-id=\"news2-on-time.v1\"")));
  const std::string news2 =
      Between(html_, "<section class=\"measure\" id=\"m-news2-on-time-v1\"", "</section>");
  EXPECT_THAT(news2, HasSubstr("<p class=\"no-chart\">No data yet: no month has a value, so there "
                               "is no chart.</p>"));
  EXPECT_THAT(news2, HasSubstr("<span class=\"figure\">no data</span>"));
  // Every chart has a text alternative named from inside it.
  EXPECT_THAT(html_, HasSubstr("aria-labelledby=\"spc-1-title spc-1-desc\""));
  EXPECT_THAT(html_, HasSubstr("<title id=\"spc-1-title\">XmR chart: Inpatient falls &lt;all "
                               "wards&gt;</title>"));
  EXPECT_EQ(Count(html_, "viewBox=\"0 0 800.0 360.0\" width=\"100%\""), 2u);
}

TEST_F(RenderHtmlTest, ChartDescriptionTellsPointsLimitsAndSignals) {
  const std::string desc = Between(html_, "<desc id=\"spc-1-desc\">", "</desc>");
  EXPECT_EQ(desc,
            "<desc id=\"spc-1-desc\">XmR chart of 23 monthly values from Apr 2023 to Mar 2025, "
            "per enrolled organisation. Latest segment from Jul 2024: mean 4.00, process limits "
            "2.00 to 6.00 (trial limits). Latest value 1.50 in Mar 2025. Special cause at 1 "
            "point: Mar 2025 1.50 Improvement: outside the process limits. Rebase: New falls "
            "policy (A. Analyst) from Jul 2024. Changes marked: 1. Falls huddles &amp; "
            "&quot;safety crosses&quot; (Jul 2024); 2. Bed rails audit (Jan 2025). Special "
            "cause improvement (low). The shaded band is 2024/25 Q4.</desc>");
}

TEST_F(RenderHtmlTest, DataTableRowsFollowTheChart) {
  const std::string table = Between(html_, "<caption>XmR chart data: Inpatient falls", "</table>");
  ASSERT_FALSE(table.empty());
  EXPECT_THAT(table, HasSubstr("<caption>XmR chart data: Inpatient falls &lt;all wards&gt; (per "
                               "enrolled organisation), count</caption>"));
  EXPECT_THAT(table, HasSubstr("<th scope=\"col\">Month</th><th scope=\"col\" "
                               "class=\"num\">Value</th>"));
  EXPECT_EQ(Count(table, "<tr><th scope=\"row\">"), 23u);
  EXPECT_THAT(table, HasSubstr("<tr><th scope=\"row\">Apr 2023</th><td class=\"num\">5.00</td><td "
                               "class=\"num\">5.50</td><td class=\"num\">2.84</td><td "
                               "class=\"num\">8.16</td><td>Common cause</td><td></td></tr>"));
  EXPECT_THAT(table, HasSubstr("<tr><th scope=\"row\">Jul 2024</th><td class=\"num\">4.00</td><td "
                               "class=\"num\">4.00</td><td class=\"num\">2.00</td><td "
                               "class=\"num\">6.00</td><td>Common cause</td><td>Rebase: New falls "
                               "policy (A. Analyst); Trial limits; Change 1: Falls huddles &amp; "
                               "&quot;safety crosses&quot;</td></tr>"));
  EXPECT_THAT(table, HasSubstr("<tr><th scope=\"row\">Mar 2025</th><td class=\"num\">1.50</td><td "
                               "class=\"num\">4.00</td><td class=\"num\">2.00</td><td "
                               "class=\"num\">6.00</td><td>Improvement: outside the process "
                               "limits</td><td></td></tr>"));
  // No value in Nov 2024: no row.
  EXPECT_THAT(table, Not(HasSubstr("Nov 2024")));
}

TEST_F(RenderHtmlTest, ChartDrawsLimitsRebaseChangesAndSpecialCauseByShape) {
  const std::string chart =
      Between(html_, "<svg class=\"spc-chart\" data-measure-id=\"falls-count.v1\"", "</svg>");
  // The latest segment's values at the right, the earlier one's inside.
  EXPECT_THAT(chart, HasSubstr(">Upper limit 6.00</text>"));
  EXPECT_THAT(chart, HasSubstr(">Mean 4.00</text>"));
  EXPECT_THAT(chart, HasSubstr(">Lower limit 2.00</text>"));
  EXPECT_THAT(chart, HasSubstr(">Upper 8.16 (mean 5.50)</text>"));
  EXPECT_THAT(chart, HasSubstr(">Lower 2.84</text>"));
  EXPECT_EQ(Count(chart, "<g class=\"segment\">"), 2u);
  EXPECT_THAT(chart, HasSubstr("<g class=\"rebase\"><title>Rebase: New falls policy (A. Analyst) "
                               "from Jul 2024</title>"));
  EXPECT_THAT(chart, HasSubstr("<g class=\"change\"><title>Change 1 (Jul 2024): Falls huddles "
                               "&amp; &quot;safety crosses&quot;</title>"));
  EXPECT_THAT(chart, HasSubstr("<g class=\"change\"><title>Change 2 (Jan 2025): Bed rails "
                               "audit</title>"));
  // The special cause is a blue diamond (a polygon), common cause grey
  // circles.
  EXPECT_EQ(Count(chart, "<polygon "), 1u);
  EXPECT_THAT(chart, HasSubstr("fill=\"#1f6fb2\" stroke=\"#ffffff\" stroke-width=\"1\"><title>Mar "
                               "2025: 1.50 – Improvement: outside the process limits</title>"));
  EXPECT_EQ(Count(chart, "<circle "), 22u);
  // The quarter is shaded.
  EXPECT_THAT(chart, HasSubstr("fill=\"#eef2f7\""));
}

TEST_F(RenderHtmlTest, SignalBadgesNotesAndLinkedLearning) {
  const std::string falls =
      Between(html_, "<section class=\"measure\" id=\"m-falls-count-v1\"", "</section>");
  EXPECT_THAT(falls, HasSubstr("<strong>Variation:</strong> Special cause improvement (low)"));
  EXPECT_THAT(falls, HasSubstr("<strong>Assurance:</strong> No assurance (no target or no "
                               "improvement direction)"));
  EXPECT_THAT(falls, HasSubstr("<p class=\"note\">Trial limits:"));
  EXPECT_THAT(falls, HasSubstr("<p class=\"note\">Per enrolled organisation:"));
  EXPECT_THAT(falls, HasSubstr("<h5>Learning linked to this measure</h5>\n<ul "
                               "class=\"linked-learning\">\n<li>Bed rails audit <span "
                               "class=\"meta\">(what did not work, Oxford, Jan 2025)</span></li>"));
  EXPECT_THAT(falls, HasSubstr("Coverage: 10 of 12 organisation-months reported (83.3%), 7 on "
                               "time (70.0% of those reported)."));
  const std::string rate =
      Between(html_, "<section class=\"measure\" id=\"m-falls-harm-rate-v1\"", "</section>");
  EXPECT_THAT(rate, HasSubstr("<strong>Assurance:</strong> Inconsistent"));
  EXPECT_THAT(rate, HasSubstr(">Target 1.50</text>"));
  EXPECT_THAT(rate, HasSubstr("<span class=\"figure\">2.00 per 1,000 occupied bed days</span> "
                              "(40 / 20,000)"));
  EXPECT_THAT(rate, Not(HasSubstr("Per enrolled organisation:")));
}

TEST_F(RenderHtmlTest, FunnelPlotCentreLimitsAndUnitsOutside) {
  EXPECT_EQ(Count(html_, "<svg class=\"funnel-plot\""), 1u);
  const std::string plot =
      Between(html_,
              "<svg class=\"funnel-plot\" data-measure-id=\"falls-harm-rate.v1\" "
              "role=\"img\"",
              "</svg>");
  ASSERT_FALSE(plot.empty());
  EXPECT_THAT(plot, HasSubstr(">National 2.00</text>"));
  EXPECT_THAT(plot, HasSubstr(">95% limits</text>"));
  EXPECT_THAT(plot, HasSubstr(">99.8% limits</text>"));
  EXPECT_THAT(plot, HasSubstr(">Wessex &amp; &lt;Isle&gt; (outside 99.8%)</text>"));
  EXPECT_THAT(plot, HasSubstr(">Kent Surrey Sussex (outside 99.8%)</text>"));
  EXPECT_THAT(plot, HasSubstr(">Oxford</text>"));
  EXPECT_EQ(Count(plot, "<path d=\"M"), 4u);
  EXPECT_THAT(plot, HasSubstr("clip-path=\"url(#funnel-3-clip)\""));
  EXPECT_THAT(plot, HasSubstr("Outside the 99.8% limits: Kent Surrey Sussex 0.13 (below); Wessex "
                              "&amp; &lt;Isle&gt; 3.50 (above)."));
  // The data table: wessex at 10,000 bed days: 2 +/- 3.090232 x
  // sqrt(0.002 / 10,000) x 1,000 = 0.62 to 3.38.
  const std::string table = Between(html_, "<caption>Funnel plot data:", "</table>");
  EXPECT_THAT(table,
              HasSubstr("<tr><th scope=\"row\">Wessex &amp; &lt;Isle&gt;</th><td "
                        "class=\"num\">35</td><td class=\"num\">10,000</td><td "
                        "class=\"num\">3.50</td><td class=\"num\">1.12 to 2.88</td><td "
                        "class=\"num\">0.62 to 3.38</td><td>Above the 99.8% limits</td></tr>"));
  EXPECT_THAT(table, HasSubstr("<td>Within the limits</td>"));
}

TEST_F(RenderHtmlTest, NamesAreEscaped) {
  EXPECT_THAT(html_, HasSubstr("<h4 id=\"m-falls-count-v1-h\">Inpatient falls &lt;all "
                               "wards&gt;</h4>"));
  EXPECT_THAT(html_, Not(HasSubstr("<all wards>")));
  EXPECT_THAT(html_, Not(HasSubstr("Wessex & <Isle>")));
  EXPECT_THAT(html_, Not(HasSubstr("\"safety crosses\"")));
  v1::QuarterlyReport r = report_;
  r.set_quarter("<script>alert(1)</script>");
  std::string html = RenderHtml(r);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST_F(RenderHtmlTest, LearningReturnsSignOffsAndPublication) {
  const std::string learning = Between(html_, "<section id=\"learning\"", "</section>");
  EXPECT_THAT(learning, HasSubstr("<tr><th scope=\"row\">Oxford</th><td>Falls</td><td "
                                  "class=\"num\">0</td><td class=\"num\">0</td><td "
                                  "class=\"num\">0</td><td class=\"num\">1</td><td><ul><li>Bed "
                                  "rails audit (what did not work, Jan 2025)</li></ul></td></tr>"));

  const std::string returns = Between(html_, "<section id=\"returns\"", "</section>");
  EXPECT_EQ(Count(returns, "<h3 id=\"returns-"), 3u);
  EXPECT_THAT(returns, HasSubstr("<h3 id=\"returns-2025-03\">Mar 2025</h3>"));
  EXPECT_THAT(returns, HasSubstr("<tr><th scope=\"row\">Wessex &amp; &lt;Isle&gt;</th><td "
                                 "class=\"num\">6</td><td class=\"num\">4</td><td "
                                 "class=\"num\">3</td><td class=\"num\">66.7%</td><td "
                                 "class=\"num\">50.0%</td></tr>"));
  EXPECT_THAT(returns, HasSubstr("<tr class=\"national\"><th scope=\"row\">England</th><td "
                                 "class=\"num\">10</td><td class=\"num\">8</td>"));
  EXPECT_THAT(returns, HasSubstr("<summary>Organisations with returns outstanding for Mar 2025 "
                                 "(1)</summary>"));
  EXPECT_THAT(returns, HasSubstr("<li><code>RDZ</code> University Hospitals Dorset: missing "
                                 "Inpatient falls &lt;all wards&gt; (falls-count.v1); NEWS2 "
                                 "observations on time (news2-on-time.v1)</li>"));
  EXPECT_EQ(Count(returns, "Every enrolled organisation has reported every measure."), 2u);

  const std::string sign_offs = Between(html_, "<section id=\"sign-offs\"", "</section>");
  EXPECT_THAT(sign_offs, HasSubstr("<tr><th scope=\"row\">Oxford</th><td><code>oxford-q4</code>"
                                   "</td><td class=\"num\">38</td><td class=\"num\">37</td><td>3 "
                                   "Apr 2025 11:15 BST</td><td>oxford-lead</td><td "
                                   "class=\"num\">0</td></tr>"));
  EXPECT_THAT(sign_offs, HasSubstr("<p>No revisions: the figures Oxford signed off are the "
                                   "figures now.</p>"));
  EXPECT_THAT(sign_offs, HasSubstr("<tr><td>Falls with harm per 1,000 bed days "
                                   "(falls-harm-rate.v1)</td><td>Wessex &amp; &lt;Isle&gt;</td>"
                                   "<td>numerator</td><td class=\"num\">34</td><td "
                                   "class=\"num\">35</td></tr>"));
  EXPECT_THAT(sign_offs, HasSubstr("<td>value</td><td class=\"num\">3.40</td><td "
                                   "class=\"num\">3.50</td></tr>"));

  const std::string publication = Between(html_, "<section id=\"publication\"", "</section>");
  EXPECT_THAT(publication, HasSubstr("Published as <code>q4-first</code> at log position 41 "
                                     "(figures as of position 40)."));
  EXPECT_THAT(publication, HasSubstr("<p>No revisions since publication.</p>"));
}

TEST_F(RenderHtmlTest, EmptyListsAreSaidPlainly) {
  v1::QuarterlyReport r = report_;
  r.clear_learning();
  r.clear_sign_offs();
  r.clear_outstanding();
  r.clear_publication();
  std::string html = RenderHtml(r);
  EXPECT_THAT(html, HasSubstr("<p>No learning was shared for the quarter's months.</p>"));
  EXPECT_THAT(html, HasSubstr("<p>No collaborative has signed off this quarter.</p>"));
  EXPECT_THAT(html, HasSubstr("<p>2024/25 Q4 had not been published at this report's log "
                              "position.</p>"));
  EXPECT_THAT(html, HasSubstr("<p>This report carries no month-by-month returns;"));
}

TEST_F(RenderHtmlTest, SameReportSameBytes) {
  EXPECT_EQ(html_, RenderHtml(testing::RichReport()));
  Rendered rendered = Render(report_, v1::REPORT_FORMAT_HTML);
  EXPECT_EQ(rendered.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(rendered.bytes, html_);
}

TEST_F(RenderHtmlTest, NothingFromTheNetwork) {
  EXPECT_THAT(html_, Not(HasSubstr("http://")));
  EXPECT_THAT(html_, Not(HasSubstr("https://")));
  EXPECT_THAT(html_, Not(HasSubstr("src=")));
  EXPECT_THAT(html_, Not(HasSubstr("@import")));
  EXPECT_THAT(html_, Not(HasSubstr("<script")));
  EXPECT_THAT(html_, Not(HasSubstr("<link")));
  // Links and url() references stay inside the page.
  std::regex href("href=\"([^\"]*)\"");
  size_t links = 0;
  for (auto it = std::sregex_iterator(html_.begin(), html_.end(), href);
       it != std::sregex_iterator(); ++it, ++links) {
    EXPECT_EQ((*it)[1].str().substr(0, 1), "#") << (*it)[1].str();
  }
  EXPECT_GT(links, 5u);
  EXPECT_EQ(Count(html_, "url("), Count(html_, "url(#"));
}

TEST_F(RenderHtmlTest, AccessibleStructure) {
  EXPECT_EQ(html_.substr(0, 32), "<!DOCTYPE html>\n<html lang=\"en\">");
  EXPECT_THAT(html_, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html_, HasSubstr("<meta name=\"viewport\" content=\"width=device-width, "
                               "initial-scale=1\">"));
  EXPECT_THAT(html_, HasSubstr("<a class=\"skip\" href=\"#main\">Skip to main content</a>"));
  EXPECT_THAT(html_, HasSubstr("<main id=\"main\" tabindex=\"-1\">"));
  EXPECT_THAT(html_, HasSubstr(":focus-visible { outline: 3px solid #1a1a1a;"));
  EXPECT_EQ(Count(html_, "<h1"), 1u);
  // Headings never skip a level on the way down.
  std::regex heading("<h([1-6])[ >]");
  int previous = 0;
  for (auto it = std::sregex_iterator(html_.begin(), html_.end(), heading);
       it != std::sregex_iterator(); ++it) {
    int level = std::stoi((*it)[1].str());
    EXPECT_LE(level, previous + 1)
        << "h" << level << " after h" << previous << " at " << it->position();
    previous = level;
  }
  // Every header cell says what it heads; every table has a caption.
  EXPECT_EQ(Count(html_, "<th>"), 0u);
  EXPECT_EQ(Count(html_, "<th "), Count(html_, "<th scope=\""));
  EXPECT_EQ(Count(html_, "<table"), Count(html_, "<caption>"));
  // Each in a region that scrolls sideways on a narrow screen, reachable by
  // keyboard.
  EXPECT_EQ(Count(html_, "<table"),
            Count(html_, "<div class=\"table-scroll\" role=\"region\" aria-label=\""));
  EXPECT_THAT(html_, HasSubstr("<div class=\"table-scroll\" role=\"region\" aria-label=\"Returns "
                               "for Mar 2025 by collaborative\" tabindex=\"0\">\n<table>\n<caption>"
                               "Returns for Mar 2025 by collaborative</caption>"));
  // Every chart is an image with a title and a description; the drawings
  // beside words are hidden.
  EXPECT_EQ(Count(html_, "role=\"img\""), 3u);
  EXPECT_EQ(Count(html_, "<desc id="), 3u);
  EXPECT_EQ(Count(html_, "<svg"),
            Count(html_, "role=\"img\"") + Count(html_, "aria-hidden=\"true\""));
  // Ids are unique.
  std::regex id(" id=\"([^\"]*)\"");
  std::set<std::string> ids;
  for (auto it = std::sregex_iterator(html_.begin(), html_.end(), id); it != std::sregex_iterator();
       ++it) {
    EXPECT_TRUE(ids.insert((*it)[1].str()).second) << "duplicate id " << (*it)[1].str();
  }
}

// Charts whose values are all equal, far from zero, or not numbers at all
// still draw (no endless axis, no "nan" in the page).
TEST(RenderHtml, FlatHugeAndMissingValuesStillDraw) {
  v1::QuarterlyReport r = testing::RichReport();
  auto* mr = r.mutable_types(1)->mutable_topics(0)->mutable_measures(0);
  for (int i = 0; i < mr->spc_points_size(); ++i) {
    v1::SpcPoint* p = mr->mutable_spc_points(i);
    p->set_value(i == 3 ? std::nan("") : 1e12 + (i % 2) * 1e-6);
    p->set_mean(1e12);
    p->set_lower_process_limit(1e12);
    p->set_upper_process_limit(1e12);
    p->set_lower_near_limit(1e12);
    p->set_upper_near_limit(i == 5 ? std::numeric_limits<double>::infinity() : 1e12);
  }
  auto* flat = r.mutable_types(1)->mutable_topics(0)->mutable_measures(1);
  for (auto& p : *flat->mutable_spc_points()) p.set_value(0);
  const std::string html = RenderHtml(r);
  EXPECT_EQ(Count(html, "<svg class=\"spc-chart\""), 2u);
  EXPECT_FALSE(std::regex_search(html, std::regex("[\"> ,]-?(nan|inf)\\b")));
  EXPECT_EQ(html, RenderHtml(r));
}

TEST(RenderHtml, EmptyReport) {
  v1::QuarterlyReport r;
  r.set_quarter("2024/25 Q1");
  r.set_first_month("2024-04");
  r.set_last_month("2024-06");
  std::string html = RenderHtml(r);
  EXPECT_THAT(html, HasSubstr("<p>No measures in the catalogue.</p>"));
  EXPECT_THAT(html, HasSubstr("0 collaboratives"));
  EXPECT_THAT(html, Not(HasSubstr("class=\"spc-chart\"")));
  EXPECT_TRUE(html.ends_with("</html>\n"));
}

}  // namespace
}  // namespace psc::report
