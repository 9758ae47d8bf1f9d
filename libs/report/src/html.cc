// The quarterly report as one self-contained HTML page (see render.h for the
// contract). Everything is built with string appends in report order; the
// only arithmetic in doubles is the layout of the charts (coordinates
// written with one decimal place by std::to_chars) and the funnel curves,
// so the same report gives the same bytes.
//
// Colours (all at least 4.5:1 against white, so they serve as text too):
//   ink #1a1a1a, grey #595959 (common cause, limits), improvement #1f6fb2,
//   concern #b35900, neither #6a3d9a, target #b00020, links #005ea5.
// Special causes differ by shape as well: common cause circle, improvement
// diamond, concern square, neither triangle.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "psc/domain/number_format.h"
#include "psc/domain/period.h"
#include "psc/domain/strings.h"
#include "psc/report/render.h"
#include "psc/spc/spc.h"
#include "render_internal.h"

namespace psc::report {
namespace {

using namespace internal;

constexpr std::string_view kInk = "#1a1a1a";
constexpr std::string_view kGrey = "#595959";
constexpr std::string_view kLight = "#8c8c8c";
constexpr std::string_view kImprovement = "#1f6fb2";
constexpr std::string_view kConcern = "#b35900";
constexpr std::string_view kNeither = "#6a3d9a";
constexpr std::string_view kTarget = "#b00020";
constexpr std::string_view kQuarterBand = "#eef2f7";

// ---------------------------------------------------------------- text

// Escapes text for HTML element content and double- or single-quoted
// attribute values.
std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Cuts UTF-8 text to `max` code points, ending in "…" when cut.
std::string Cut(const std::string& s, size_t max) {
  if (Columns(s) <= max || max == 0) return s;
  std::string out;
  size_t points = 0;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) {
      if (points == max - 1) break;
      ++points;
    }
    out.push_back(ch);
  }
  return out + "…";
}

// A fragment id from any text: lowercase letters, digits and dashes.
std::string Slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (out.empty() || out.back() != '-') {
      out += '-';
    }
  }
  return out;
}

std::string Capitalised(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// "Apr" for "2024-04".
std::string MonthAbbreviation(Month m) {
  static constexpr const char* kNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return kNames[m.month() - 1];
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "–";
  return StrCat(Quotient(part, 100, whole, 1, false), "%");
}

// A table with its caption (plain text), inside a region that scrolls
// sideways on a narrow screen; the region takes the keyboard focus so that
// it can be scrolled without a mouse. Ends with kTableEnd.
std::string TableStart(std::string_view css_class, const std::string& caption) {
  return StrCat("<div class=\"table-scroll\" role=\"region\" aria-label=\"", Esc(caption),
                "\" tabindex=\"0\">\n<table", css_class.empty() ? "" : " class=\"", Esc(css_class),
                css_class.empty() ? "" : "\"", ">\n<caption>", Esc(caption), "</caption>\n");
}
constexpr std::string_view kTableEnd = "</tbody>\n</table>\n</div>\n";

// ---------------------------------------------------------------- numbers

// A coordinate of a chart: one decimal place.
std::string C(double v) { return FixedDouble(v, 1).value_or("0"); }

// A computed statistic for people, in the measure's precision.
std::string Stat(const v1::Measure& m, double v) {
  return FixedDouble(v, HumanDecimals(m)).value_or("–");
}

// With its unit: "87.5%", "1.33 per 1,000 occupied bed days", "3.25".
std::string StatWithUnit(const v1::Measure& m, double v) {
  std::string s = Stat(m, v);
  if (m.unit() == v1::UNIT_PROPORTION) return s + "%";
  if (m.unit() == v1::UNIT_RATE) return StrCat(s, " ", UnitLabel(m));
  return s;
}

// A step of 1, 2, 2.5 or 5 times a power of ten, at least `raw`; computed
// by multiplying and dividing by 10 (no libm), so it is the same anywhere.
double NiceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  double magnitude = 1;
  while (magnitude * 10 <= raw) magnitude *= 10;
  while (magnitude > raw) magnitude /= 10;
  for (double f : {1.0, 2.0, 2.5, 5.0}) {
    if (f * magnitude >= raw) return f * magnitude;
  }
  return 10 * magnitude;
}

// Decimal places that show every multiple of `step` exactly (at most 6).
int DecimalsFor(double step) {
  int d = 0;
  double scaled = step;
  while (d < 6 && std::fabs(scaled - std::round(scaled)) > 1e-6 * std::max(1.0, scaled)) {
    scaled *= 10;
    ++d;
  }
  return d;
}

// A value range with nice ticks around [lo, hi].
struct Axis {
  double lo = 0;
  double hi = 1;
  double step = 1;
  int decimals = 0;
};

Axis NiceAxis(double lo, double hi, int ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return Axis{};
  if (hi < lo) std::swap(lo, hi);
  // A range too narrow for its magnitude (all values equal) is widened, so
  // that ticks stay apart in floating point.
  const double magnitude = std::max(std::fabs(lo), std::fabs(hi));
  if (hi - lo < std::max(1e-9, magnitude * 1e-6)) {
    const double pad = std::max(magnitude * 0.1, 1.0);
    lo -= pad;
    hi += pad;
  }
  Axis a;
  a.step = NiceStep((hi - lo) / ticks);
  a.lo = std::floor(lo / a.step) * a.step;
  a.hi = std::ceil(hi / a.step) * a.step;
  if (a.hi - a.lo < a.step) a.hi = a.lo + a.step;
  a.decimals = DecimalsFor(a.step);
  return a;
}

// The tick values of an axis, lo to hi (a few dozen at most).
std::vector<double> Ticks(const Axis& a) {
  std::vector<double> out;
  const double n = std::round((a.hi - a.lo) / a.step);
  for (int i = 0; i <= n && i <= 50; ++i) out.push_back(a.lo + a.step * i);
  return out;
}

// ---------------------------------------------------------------- names

std::string_view DirectionText(v1::Direction d) {
  switch (d) {
    case v1::DIRECTION_UP:
      return "Higher is better";
    case v1::DIRECTION_DOWN:
      return "Lower is better";
    case v1::DIRECTION_NEITHER:
      return "Neither direction is an improvement";
    default:
      return "Not stated";
  }
}

std::string_view AggregationText(v1::Aggregation a) {
  switch (a) {
    case v1::AGGREGATION_SUM:
      return "Sum of the organisations' monthly counts";
    case v1::AGGREGATION_RATIO:
      return "Summed numerators over summed denominators";
    case v1::AGGREGATION_LAST:
      return "Each organisation's latest month in the quarter, then summed";
    default:
      return "Not stated";
  }
}

std::string_view LearningKindText(v1::LearningKind k) {
  switch (k) {
    case v1::LEARNING_KIND_CASE_STUDY:
      return "case study";
    case v1::LEARNING_KIND_STORY:
      return "story";
    case v1::LEARNING_KIND_INNOVATIVE_PRACTICE:
      return "innovative practice";
    case v1::LEARNING_KIND_WHAT_DID_NOT_WORK:
      return "what did not work";
    default:
      return "learning";
  }
}

// The Making Data Count variation icon, in words.
std::string VariationText(std::string_view v) {
  if (v == "common_cause") return "Common cause variation";
  if (v == "improvement_high") return "Special cause improvement (high)";
  if (v == "improvement_low") return "Special cause improvement (low)";
  if (v == "concern_high") return "Special cause concern (high)";
  if (v == "concern_low") return "Special cause concern (low)";
  if (v == "neither_high") return "Special cause variation, neither improvement nor concern (high)";
  if (v == "neither_low") return "Special cause variation, neither improvement nor concern (low)";
  return StrCat("Variation: ", v);
}

std::string AssuranceText(std::string_view a) {
  if (a == "consistently_passes") return "Consistently passes target";
  if (a == "consistently_fails") return "Consistently fails target";
  if (a == "inconsistent")
    return "Inconsistent: passes or fails the target by chance (hit and miss)";
  if (a == "none" || a.empty()) return "No assurance (no target or no improvement direction)";
  return StrCat("Assurance: ", a);
}

std::string RuleText(std::string_view rule) {
  if (rule == "outside_limits") return "outside the process limits";
  if (rule == "trend") return "trend of 7 rising or falling";
  if (rule == "two_of_three") return "2 of 3 near a limit";
  if (rule == "shift") return "shift: 7 on one side of the mean";
  return std::string(rule);
}

std::string ClassificationText(std::string_view c) {
  if (c == "improvement") return "Improvement";
  if (c == "concern") return "Concern";
  if (c == "neutral") return "Neither improvement nor concern";
  return c.empty() ? "Special cause" : Capitalised(c);
}

// "Improvement: outside the process limits", or "Common cause".
std::string SpecialCauseText(const v1::SpcPoint& p) {
  if (p.special_cause().empty()) return "Common cause";
  return StrCat(ClassificationText(p.classification()), ": ", RuleText(p.special_cause()));
}

std::string_view ColourOf(std::string_view classification) {
  if (classification == "improvement") return kImprovement;
  if (classification == "concern") return kConcern;
  if (classification == "neutral") return kNeither;
  return kGrey;
}

// ---------------------------------------------------------------- shapes

enum class Shape { kCircle, kDiamond, kSquare, kTriangle };

// The shape of a point on an XmR chart: circle (common cause), diamond
// (improvement), square (concern), triangle (neither).
Shape ShapeOf(std::string_view classification, bool special) {
  if (!special) return Shape::kCircle;
  if (classification == "improvement") return Shape::kDiamond;
  if (classification == "concern") return Shape::kSquare;
  return Shape::kTriangle;
}

// A marker centred at (x, y), `size` from its centre to a corner, with a
// tooltip when `tooltip` is not empty.
void AppendMarker(std::string* out, Shape shape, std::string_view colour, double x, double y,
                  double size, const std::string& tooltip) {
  const std::string title = tooltip.empty() ? "" : StrCat("<title>", Esc(tooltip), "</title>");
  const double s = size;
  std::string points;
  switch (shape) {
    case Shape::kCircle:
      StrAppend(out, "<circle cx=\"", C(x), "\" cy=\"", C(y), "\" r=\"", C(s * 0.6), "\" fill=\"",
                colour, "\">", title, "</circle>");
      return;
    case Shape::kDiamond:
      points = StrCat(C(x), ",", C(y - s), " ", C(x + s), ",", C(y), " ", C(x), ",", C(y + s), " ",
                      C(x - s), ",", C(y));
      break;
    case Shape::kSquare: {
      const double h = s * 0.8;
      points = StrCat(C(x - h), ",", C(y - h), " ", C(x + h), ",", C(y - h), " ", C(x + h), ",",
                      C(y + h), " ", C(x - h), ",", C(y + h));
      break;
    }
    case Shape::kTriangle:
      points = StrCat(C(x), ",", C(y - s), " ", C(x + s), ",", C(y + s * 0.8), " ", C(x - s), ",",
                      C(y + s * 0.8));
      break;
  }
  StrAppend(out, "<polygon points=\"", points, "\" fill=\"", colour,
            "\" stroke=\"#ffffff\" stroke-width=\"1\">", title, "</polygon>");
}

// A small marker as its own inline image, for legends.
std::string LegendMarker(Shape shape, std::string_view colour) {
  std::string svg =
      "<svg class=\"key\" viewBox=\"0 0 20 20\" width=\"20\" height=\"20\" aria-hidden=\"true\" "
      "focusable=\"false\">";
  AppendMarker(&svg, shape, colour, 10, 10, 7, "");
  return svg + "</svg>";
}

// The marker of an XmR point class, for legends.
std::string LegendMarker(std::string_view classification, bool special) {
  return LegendMarker(ShapeOf(classification, special), special ? ColourOf(classification) : kGrey);
}

std::string LegendLine(std::string_view colour, std::string_view dash, double width) {
  return StrCat(
      "<svg class=\"key\" viewBox=\"0 0 32 20\" width=\"32\" height=\"20\" aria-hidden=\"true\" "
      "focusable=\"false\"><line x1=\"1\" y1=\"10\" x2=\"31\" y2=\"10\" stroke=\"",
      colour, "\" stroke-width=\"", C(width), "\"",
      dash.empty() ? std::string() : StrCat(" stroke-dasharray=\"", dash, "\""), "/></svg>");
}

// Making Data Count style icons, drawn small; the words beside them carry
// the meaning, so the drawing is hidden from assistive technology.
std::string VariationBadge(std::string_view v) {
  std::string_view colour = kGrey;
  std::string letter;
  if (v.starts_with("improvement")) colour = kImprovement;
  if (v.starts_with("concern")) colour = kConcern;
  if (v.starts_with("neither")) colour = kNeither;
  if (v.ends_with("_high")) letter = "H";
  if (v.ends_with("_low")) letter = "L";
  std::string svg = StrCat(
      "<svg viewBox=\"0 0 40 40\" width=\"32\" height=\"32\" aria-hidden=\"true\" "
      "focusable=\"false\"><circle cx=\"20\" cy=\"20\" r=\"18\" fill=\"",
      colour, "\"/>");
  if (letter.empty()) {
    svg +=
        "<polyline points=\"8,22 14,16 20,24 26,16 32,20\" fill=\"none\" stroke=\"#ffffff\" "
        "stroke-width=\"3\"/>";
  } else {
    StrAppend(&svg,
              "<text x=\"20\" y=\"27\" text-anchor=\"middle\" font-size=\"20\" font-weight=\"700\" "
              "fill=\"#ffffff\">",
              letter, "</text>");
  }
  return svg + "</svg>";
}

std::string AssuranceBadge(std::string_view a) {
  std::string_view colour = kGrey;
  std::string_view letter = "?";
  if (a == "consistently_passes") {
    colour = kImprovement;
    letter = "P";
  } else if (a == "consistently_fails") {
    colour = kConcern;
    letter = "F";
  } else if (a != "inconsistent") {
    return "";
  }
  return StrCat(
      "<svg viewBox=\"0 0 40 40\" width=\"32\" height=\"32\" aria-hidden=\"true\" "
      "focusable=\"false\"><circle cx=\"20\" cy=\"20\" r=\"16\" fill=\"#ffffff\" stroke=\"",
      colour,
      "\" stroke-width=\"4\"/><text x=\"20\" y=\"27\" text-anchor=\"middle\" font-size=\"20\" "
      "font-weight=\"700\" fill=\"",
      colour, "\">", letter, "</text></svg>");
}

// ---------------------------------------------------------------- page

constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; color: #1a1a1a; background: #ffffff; line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, nav, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
a { color: #005ea5; }
a:visited { color: #4c2c92; }
:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
a:focus-visible, summary:focus-visible { background: #ffdd00; color: #1a1a1a; }
.skip { position: absolute; left: -10000px; top: 0; }
.skip:focus { left: 1rem; top: 1rem; z-index: 10; padding: .5rem 1rem; background: #ffdd00;
  color: #1a1a1a; }
h1 { font-size: 2rem; line-height: 1.2; margin: .5rem 0; }
h2 { font-size: 1.6rem; margin: 2.5rem 0 .75rem; padding-top: .5rem;
  border-top: 3px solid #1a1a1a; }
h3 { font-size: 1.3rem; margin: 2rem 0 .5rem; }
h4 { font-size: 1.15rem; margin: 0 0 .5rem; }
h5 { font-size: 1rem; margin: 1rem 0 .25rem; }
.meta { color: #1a1a1a; margin: 0 0 .25rem; }
.measure { border: 1px solid #b1b4b6; border-radius: 4px; padding: 1rem; margin: 1rem 0 1.5rem; }
dl.definition { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem;
  margin: 0 0 .75rem; }
dl.definition dt { font-weight: 600; }
dl.definition dd { margin: 0; }
.national .figure { font-size: 1.4rem; font-weight: 700; }
.signal { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; margin: .5rem 0; }
.badge { display: inline-flex; align-items: center; gap: .5rem; }
.badge svg { flex: none; }
.note { background: #f3f2f1; border-left: 4px solid #595959; padding: .4rem .75rem;
  margin: .5rem 0; }
figure { margin: .75rem 0; }
svg.spc-chart, svg.funnel-plot { display: block; width: 100%; height: auto; max-width: 60rem; }
svg text { font-family: inherit; }
svg.key { vertical-align: middle; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: .3rem .5rem; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
.table-scroll { overflow-x: auto; max-width: 100%; margin: .5rem 0 1rem; }
.table-scroll table { margin: 0; }
thead th { border-bottom: 2px solid #1a1a1a; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.national th, tr.national td { font-weight: 700; }
td ul { margin: 0; padding-left: 1.1rem; }
details { margin: .5rem 0; }
summary { cursor: pointer; color: #005ea5; text-decoration: underline; }
code { font-size: .95em; }
@media (max-width: 40rem) {
  dl.definition { grid-template-columns: 1fr; }
  h1 { font-size: 1.6rem; }
}
)css";

// What the whole page needs to name things.
struct Names {
  std::map<std::string, std::string, std::less<>> collaboratives;
  std::map<std::string, std::string, std::less<>> topics;
  std::map<std::string, const v1::Measure*, std::less<>> measures;
  std::set<std::string, std::less<>> used_ids;
  int charts = 0;

  std::string Collaborative(const std::string& id) const {
    auto it = collaboratives.find(id);
    return it == collaboratives.end() || it->second.empty() ? id : it->second;
  }
  std::string Topic(const std::string& id) const {
    auto it = topics.find(id);
    return it == topics.end() || it->second.empty() ? id : it->second;
  }
  // A measure's name and id: "Inpatient falls (falls-count.v1)".
  std::string Measure(const std::string& id) const {
    auto it = measures.find(id);
    if (it == measures.end() || it->second->name().empty()) return id;
    return StrCat(it->second->name(), " (", id, ")");
  }
  // A fragment id not used before on the page.
  std::string UniqueId(std::string_view base) {
    std::string id(base);
    for (int n = 2; used_ids.contains(id); ++n) id = StrCat(base, "-", n);
    used_ids.insert(id);
    return id;
  }
};

// ---------------------------------------------------------------- SPC chart

// Geometry of the XmR chart, in viewBox units.
constexpr double kChartWidth = 800;
constexpr double kChartHeight = 360;
constexpr double kPlotLeft = 64;
constexpr double kPlotRight = 612;
constexpr double kPlotTop = 52;
constexpr double kPlotBottom = 300;

struct SegmentView {
  int first = 0;  // index into points
  int last = 0;
  const v1::SpcSegment* segment = nullptr;  // when the report has it
};

// Splits the points into runs of the same segment index; each run matched
// with the report's segment of that index.
std::vector<SegmentView> SegmentsOf(const v1::MeasureReport& mr) {
  std::vector<SegmentView> out;
  const auto& points = mr.spc_points();
  for (int i = 0; i < points.size(); ++i) {
    if (out.empty() || points[i].segment() != points[out.back().first].segment()) {
      out.push_back({i, i, nullptr});
    } else {
      out.back().last = i;
    }
  }
  for (SegmentView& s : out) {
    const int index = points[s.first].segment();
    if (index >= 0 && index < mr.spc_segments_size()) s.segment = &mr.spc_segments(index);
  }
  return out;
}

std::string RebaseText(const v1::SpcSegment& s) {
  std::string out = "Rebase";
  if (!s.rebase_reason().empty()) StrAppend(&out, ": ", s.rebase_reason());
  if (!s.rebase_author().empty()) StrAppend(&out, " (", s.rebase_author(), ")");
  return out;
}

bool IsRebase(const v1::SpcSegment* s) {
  return s != nullptr && (!s->rebase_reason().empty() || !s->rebase_author().empty());
}

// Labels at the right of the plot, moved apart so they do not overlap.
struct SideLabel {
  double y = 0;
  std::string text;
  std::string_view colour;
};

void AppendSideLabels(std::string* out, std::vector<SideLabel> labels, double x) {
  constexpr double kGap = 14;
  std::erase_if(labels, [](const SideLabel& l) { return !std::isfinite(l.y); });
  std::stable_sort(labels.begin(), labels.end(),
                   [](const SideLabel& a, const SideLabel& b) { return a.y < b.y; });
  for (size_t i = 1; i < labels.size(); ++i) {
    labels[i].y = std::max(labels[i].y, labels[i - 1].y + kGap);
  }
  // Pushed below the chart: move the stack up again.
  if (!labels.empty() && labels.back().y > kChartHeight - 8) {
    labels.back().y = kChartHeight - 8;
    for (size_t i = labels.size() - 1; i > 0; --i) {
      labels[i - 1].y = std::min(labels[i - 1].y, labels[i].y - kGap);
    }
  }
  for (const SideLabel& l : labels) {
    StrAppend(out, "<text x=\"", C(x), "\" y=\"", C(l.y + 4), "\" font-size=\"12\" fill=\"",
              l.colour, "\">", Esc(l.text), "</text>");
  }
}

// The text alternative of a chart: what a reader would take from it.
std::string ChartDescription(const v1::MeasureReport& mr, const std::vector<SegmentView>& segments,
                             const std::string& quarter_note) {
  const v1::Measure& m = mr.measure();
  const auto& points = mr.spc_points();
  const v1::SpcPoint& last = points[points.size() - 1];
  std::string d =
      StrCat("XmR chart of ", points.size(), " monthly value", points.size() == 1 ? "" : "s",
             " from ", MonthLabel(points[0].month()), " to ", MonthLabel(last.month()),
             mr.spc().per_organisation() ? ", per enrolled organisation" : "", ". ");
  if (segments.size() > 1) {
    StrAppend(&d, "Latest segment from ", MonthLabel(points[segments.back().first].month()),
              ": mean ");
  } else {
    d += "Mean ";
  }
  StrAppend(&d, StatWithUnit(m, last.mean()), ", process limits ",
            Stat(m, last.lower_process_limit()), " to ", Stat(m, last.upper_process_limit()));
  const v1::SpcSegment* latest = segments.back().segment;
  if ((latest != nullptr && latest->trial_limits()) ||
      (latest == nullptr && mr.spc().trial_limits())) {
    d += " (trial limits)";
  }
  StrAppend(&d, ". Latest value ", StatWithUnit(m, last.value()), " in ", MonthLabel(last.month()),
            ".");
  if (m.has_target()) StrAppend(&d, " Target ", StatWithUnit(m, m.target()), ".");
  std::string causes;
  int flagged = 0;
  for (const auto& p : points) {
    if (p.special_cause().empty()) continue;
    ++flagged;
    StrAppend(&causes, causes.empty() ? "" : "; ", MonthLabel(p.month()), " ", Stat(m, p.value()),
              " ", SpecialCauseText(p));
  }
  if (flagged == 0) {
    d += " No special cause: every point is common cause variation.";
  } else {
    StrAppend(&d, " Special cause at ", flagged, " point", flagged == 1 ? "" : "s", ": ", causes,
              ".");
  }
  for (const SegmentView& s : segments) {
    if (IsRebase(s.segment)) {
      StrAppend(&d, " ", RebaseText(*s.segment), " from ", MonthLabel(points[s.first].month()),
                ".");
    }
  }
  if (mr.chart_learning_size() > 0) {
    d += " Changes marked:";
    for (int i = 0; i < mr.chart_learning_size(); ++i) {
      const auto& item = mr.chart_learning(i);
      StrAppend(&d, " ", i + 1, ". ", LearningTitle(item), " (", MonthLabel(item.month()), ")",
                i + 1 < mr.chart_learning_size() ? ";" : ".");
    }
  }
  if (mr.has_spc()) StrAppend(&d, " ", VariationText(mr.spc().variation()), ".");
  d += quarter_note;
  return d;
}

void AppendSpcChart(std::string* out, const v1::QuarterlyReport& report,
                    const v1::MeasureReport& mr, Names& names) {
  const v1::Measure& m = mr.measure();
  const auto& points = mr.spc_points();
  const std::vector<SegmentView> segments = SegmentsOf(mr);
  const int chart = ++names.charts;
  const std::string id = StrCat("spc-", chart);

  // Months along x, including months without a value.
  const Month first = Month::Parse(points[0].month()).value_or(Month());
  const Month last = Month::Parse(points[points.size() - 1].month()).value_or(first);
  const int months = std::max(1, first.MonthsUntil(last) + 1);
  const double step = (kPlotRight - kPlotLeft) / months;
  auto x_of = [&](const std::string& month) {
    auto mo = Month::Parse(month);
    int i = mo ? std::clamp(first.MonthsUntil(*mo), 0, months - 1) : 0;
    return kPlotLeft + step * (i + 0.5);
  };

  // Values along y: points, limits, target.
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (const auto& p : points) {
    for (double v : {p.value(), p.mean(), p.lower_process_limit(), p.upper_process_limit(),
                     p.lower_near_limit(), p.upper_near_limit()}) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (m.has_target() && std::isfinite(m.target())) {
    lo = std::min(lo, m.target());
    hi = std::max(hi, m.target());
  }
  const Axis axis = NiceAxis(lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05, 5);
  auto y_of = [&](double v) {
    return kPlotBottom - (v - axis.lo) / (axis.hi - axis.lo) * (kPlotBottom - kPlotTop);
  };

  const std::string name = m.name().empty() ? m.id() : m.name();
  std::string quarter_note;
  auto q_first = Month::Parse(report.first_month());
  auto q_last = Month::Parse(report.last_month());
  if (q_first && q_last && *q_last >= first && *q_first <= last) {
    quarter_note = StrCat(" The shaded band is ", report.quarter(), ".");
  }

  StrAppend(out, "<figure>\n<svg class=\"spc-chart\" data-measure-id=\"", Esc(m.id()),
            "\" role=\"img\" viewBox=\"0 0 ", C(kChartWidth), " ", C(kChartHeight),
            "\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" aria-labelledby=\"", id,
            "-title ", id, "-desc\" font-size=\"12\" fill=\"", kInk, "\">\n");
  StrAppend(out, "<title id=\"", id, "-title\">XmR chart: ", Esc(name), "</title>\n");
  StrAppend(out, "<desc id=\"", id, "-desc\">", Esc(ChartDescription(mr, segments, quarter_note)),
            "</desc>\n");
  StrAppend(out, "<rect x=\"0\" y=\"0\" width=\"", C(kChartWidth), "\" height=\"", C(kChartHeight),
            "\" fill=\"#ffffff\"/>\n");

  // The quarter of the report.
  if (!quarter_note.empty()) {
    const Month a = std::max(*q_first, first), b = std::min(*q_last, last);
    const double x0 = kPlotLeft + step * first.MonthsUntil(a);
    const double x1 = kPlotLeft + step * (first.MonthsUntil(b) + 1);
    StrAppend(out, "<rect x=\"", C(x0), "\" y=\"", C(kPlotTop), "\" width=\"", C(x1 - x0),
              "\" height=\"", C(kPlotBottom - kPlotTop), "\" fill=\"", kQuarterBand, "\"/>\n");
    StrAppend(out, "<text x=\"", C((x0 + x1) / 2), "\" y=\"", C(kPlotBottom - 6),
              "\" text-anchor=\"middle\" font-size=\"11\">", Esc(report.quarter()), "</text>\n");
  }

  // Grid and y axis.
  for (double v : Ticks(axis)) {
    const double y = y_of(v);
    StrAppend(out, "<line x1=\"", C(kPlotLeft), "\" y1=\"", C(y), "\" x2=\"", C(kPlotRight),
              "\" y2=\"", C(y), "\" stroke=\"#e1e1e1\" stroke-width=\"1\"/>");
    StrAppend(out, "<text x=\"", C(kPlotLeft - 6), "\" y=\"", C(y + 4), "\" text-anchor=\"end\">",
              FixedDouble(v, axis.decimals).value_or(""), "</text>\n");
  }
  StrAppend(out, "<line x1=\"", C(kPlotLeft), "\" y1=\"", C(kPlotTop), "\" x2=\"", C(kPlotLeft),
            "\" y2=\"", C(kPlotBottom), "\" stroke=\"", kGrey, "\"/>");
  StrAppend(out, "<line x1=\"", C(kPlotLeft), "\" y1=\"", C(kPlotBottom), "\" x2=\"", C(kPlotRight),
            "\" y2=\"", C(kPlotBottom), "\" stroke=\"", kGrey, "\"/>\n");
  std::string y_title = m.unit() == v1::UNIT_COUNT ? std::string("count") : UnitLabel(m);
  if (mr.spc().per_organisation()) y_title += " per enrolled organisation";
  StrAppend(out, "<text x=\"", C(kPlotLeft), "\" y=\"", C(kPlotTop - 38), "\" font-size=\"12\">",
            Esc(Cut(Capitalised(y_title), 80)), "</text>\n");

  // Months along the bottom: at most 12 labels; the year under January and
  // under the first label.
  const int every = (months + 11) / 12;
  int last_year = -1;
  for (int i = 0; i < months; i += every) {
    const Month mo = first.Plus(i);
    const double x = kPlotLeft + step * (i + 0.5);
    StrAppend(out, "<line x1=\"", C(x), "\" y1=\"", C(kPlotBottom), "\" x2=\"", C(x), "\" y2=\"",
              C(kPlotBottom + 4), "\" stroke=\"", kGrey, "\"/>");
    StrAppend(out, "<text x=\"", C(x), "\" y=\"", C(kPlotBottom + 17), "\" text-anchor=\"middle\">",
              MonthAbbreviation(mo), "</text>");
    if (mo.year() != last_year) {
      StrAppend(out, "<text x=\"", C(x), "\" y=\"", C(kPlotBottom + 31),
                "\" text-anchor=\"middle\">", mo.year(), "</text>");
      last_year = mo.year();
    }
    *out += "\n";
  }

  // Limits, mean and line, per segment.
  auto hline = [&](double x0, double x1, double v, std::string_view colour, std::string_view dash,
                   double width) {
    if (!std::isfinite(v)) return;
    StrAppend(out, "<line x1=\"", C(x0), "\" y1=\"", C(y_of(v)), "\" x2=\"", C(x1), "\" y2=\"",
              C(y_of(v)), "\" stroke=\"", colour, "\" stroke-width=\"", C(width), "\"",
              dash.empty() ? std::string() : StrCat(" stroke-dasharray=\"", dash, "\""), "/>");
  };
  for (size_t s = 0; s < segments.size(); ++s) {
    const SegmentView& seg = segments[s];
    const v1::SpcPoint& p = points[seg.first];
    const double x0 = x_of(points[seg.first].month()) - step / 2;
    const double x1 = x_of(points[seg.last].month()) + step / 2;
    StrAppend(out, "<g class=\"segment\">");
    hline(x0, x1, p.upper_near_limit(), kLight, "2 4", 1);
    hline(x0, x1, p.lower_near_limit(), kLight, "2 4", 1);
    hline(x0, x1, p.upper_process_limit(), kGrey, "7 4", 1.5);
    hline(x0, x1, p.lower_process_limit(), kGrey, "7 4", 1.5);
    hline(x0, x1, p.mean(), kInk, "", 1.5);
    // Earlier segments: their values inside the plot, at their start.
    if (s + 1 < segments.size()) {
      auto inner = [&](double v, double dy, std::string_view what) {
        StrAppend(out, "<text x=\"", C(x0 + 3), "\" y=\"", C(y_of(v) + dy),
                  "\" font-size=\"11\" stroke=\"#ffffff\" stroke-width=\"3\" "
                  "paint-order=\"stroke\">",
                  what, " ", Stat(m, v),
                  what == "Upper" ? StrCat(" (mean ", Stat(m, p.mean()), ")") : "", "</text>");
      };
      // The mean's value goes with the upper limit's, above the points,
      // where it cannot hide one.
      inner(p.upper_process_limit(), -4, "Upper");
      inner(p.lower_process_limit(), 13, "Lower");
    }
    std::string line;
    for (int i = seg.first; i <= seg.last; ++i) {
      if (!std::isfinite(points[i].value())) continue;
      StrAppend(&line, line.empty() ? "" : " ", C(x_of(points[i].month())), ",",
                C(y_of(points[i].value())));
    }
    StrAppend(out, "<polyline points=\"", line, "\" fill=\"none\" stroke=\"", kGrey,
              "\" stroke-width=\"1.5\"/></g>\n");
  }

  // Target.
  if (m.has_target() && std::isfinite(m.target())) {
    hline(kPlotLeft, kPlotRight, m.target(), kTarget, "10 3 2 3", 1.5);
    *out += "\n";
  }

  // Rebases: a step between two segments, labelled at its month.
  for (size_t s = 1; s < segments.size(); ++s) {
    const double x = x_of(points[segments[s].first].month()) - step / 2;
    std::string label = IsRebase(segments[s].segment) ? RebaseText(*segments[s].segment)
                                                      : std::string("Limits recalculated");
    const double room =
        (s + 1 < segments.size() ? x_of(points[segments[s + 1].first].month()) - step / 2
                                 : kChartWidth - 8) -
        x;
    const size_t chars = static_cast<size_t>(std::max(10.0, room / 6.4));
    StrAppend(out, "<g class=\"rebase\"><title>", Esc(label), " from ",
              Esc(MonthLabel(points[segments[s].first].month())), "</title><line x1=\"", C(x),
              "\" y1=\"", C(kPlotTop - 18), "\" x2=\"", C(x), "\" y2=\"", C(kPlotBottom),
              "\" stroke=\"", kInk, "\" stroke-width=\"1.5\" stroke-dasharray=\"1 3\"/>");
    StrAppend(out, "<text x=\"", C(x + 4), "\" y=\"", C(kPlotTop - 22), "\" font-size=\"11\">",
              Esc(Cut(label, chars)), "</text></g>\n");
  }

  // Changes (learning) at their months: a numbered flag; the list under
  // the chart says what each number is.
  {
    std::map<std::string, std::string> numbers;  // month -> "1, 2"
    for (int i = 0; i < mr.chart_learning_size(); ++i) {
      std::string& n = numbers[mr.chart_learning(i).month()];
      StrAppend(&n, n.empty() ? "" : ",", i + 1);
    }
    for (const auto& [month, label] : numbers) {
      auto mo = Month::Parse(month);
      if (!mo || *mo < first || *mo > last) continue;
      const double x = x_of(month);
      std::string titles;
      for (const auto& item : mr.chart_learning()) {
        if (item.month() == month) StrAppend(&titles, titles.empty() ? "" : "; ", LearningTitle(item));
      }
      const double w = 10 + 7 * static_cast<double>(label.size());
      StrAppend(out, "<g class=\"change\"><title>Change ", label, " (", Esc(MonthLabel(month)),
                "): ", Esc(titles), "</title><line x1=\"", C(x), "\" y1=\"", C(kPlotTop - 14),
                "\" x2=\"", C(x), "\" y2=\"", C(kPlotBottom), "\" stroke=\"", kNeither,
                "\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\"/>");
      StrAppend(out, "<rect x=\"", C(x - w / 2), "\" y=\"", C(kPlotTop - 16), "\" width=\"", C(w),
                "\" height=\"16\" rx=\"3\" fill=\"", kNeither, "\"/>");
      StrAppend(out, "<text x=\"", C(x), "\" y=\"", C(kPlotTop - 4),
                "\" text-anchor=\"middle\" font-size=\"11\" font-weight=\"700\" "
                "fill=\"#ffffff\">",
                label, "</text></g>\n");
    }
  }

  // Points, special causes by colour and shape.
  for (const auto& p : points) {
    if (!std::isfinite(p.value())) continue;
    const bool special = !p.special_cause().empty();
    AppendMarker(out, ShapeOf(p.classification(), special),
                 special ? ColourOf(p.classification()) : kGrey, x_of(p.month()), y_of(p.value()),
                 special ? 7 : 6,
                 StrCat(MonthLabel(p.month()), ": ", StatWithUnit(m, p.value()), " – ",
                        SpecialCauseText(p)));
  }
  *out += "\n";

  // The latest segment's values, and the target, at the right.
  const v1::SpcPoint& latest = points[segments.back().first];
  std::vector<SideLabel> labels = {
      {y_of(latest.upper_process_limit()),
       StrCat("Upper limit ", Stat(m, latest.upper_process_limit())), kGrey},
      {y_of(latest.mean()), StrCat("Mean ", Stat(m, latest.mean())), kInk},
      {y_of(latest.lower_process_limit()),
       StrCat("Lower limit ", Stat(m, latest.lower_process_limit())), kGrey},
  };
  if (m.has_target() && std::isfinite(m.target())) {
    labels.push_back({y_of(m.target()), StrCat("Target ", Stat(m, m.target())), kTarget});
  }
  AppendSideLabels(out, std::move(labels), kPlotRight + 8);
  *out += "</svg>\n</figure>\n";
}

// The chart's data, for anyone who cannot see the chart.
void AppendSpcTable(std::string* out, const v1::MeasureReport& mr) {
  const v1::Measure& m = mr.measure();
  const auto& points = mr.spc_points();
  const std::vector<SegmentView> segments = SegmentsOf(mr);
  std::map<std::string, std::vector<std::string>> notes;  // month -> notes
  for (const SegmentView& s : segments) {
    const std::string& month = points[s.first].month();
    if (IsRebase(s.segment)) notes[month].push_back(RebaseText(*s.segment));
    if (s.segment != nullptr && s.segment->fixed_after_points() > 0) {
      notes[month].push_back(
          StrCat("Limits fixed after ", s.segment->fixed_after_points(), " points"));
    }
    if (s.segment != nullptr && s.segment->trial_limits()) notes[month].push_back("Trial limits");
  }
  for (int i = 0; i < mr.chart_learning_size(); ++i) {
    const auto& item = mr.chart_learning(i);
    notes[item.month()].push_back(StrCat("Change ", i + 1, ": ", LearningTitle(item)));
  }
  const std::string name = m.name().empty() ? m.id() : m.name();
  StrAppend(out, "<details>\n<summary>Chart data: ", Esc(name), "</summary>\n");
  StrAppend(
      out,
      TableStart("", StrCat("XmR chart data: ", name,
                            mr.spc().per_organisation() ? " (per enrolled organisation)" : "", ", ",
                            UnitLabel(m))),
      "<thead><tr><th scope=\"col\">Month</th><th scope=\"col\" "
      "class=\"num\">Value</th><th scope=\"col\" class=\"num\">Mean</th><th scope=\"col\" "
      "class=\"num\">Lower process limit</th><th scope=\"col\" class=\"num\">Upper process "
      "limit</th><th scope=\"col\">Special cause</th><th scope=\"col\">Notes</th></tr></thead>"
      "\n<tbody>\n");
  for (const auto& p : points) {
    std::string note;
    if (auto it = notes.find(p.month()); it != notes.end()) {
      for (const auto& n : it->second) StrAppend(&note, note.empty() ? "" : "; ", n);
    }
    StrAppend(out, "<tr><th scope=\"row\">", Esc(MonthLabel(p.month())), "</th><td class=\"num\">",
              Stat(m, p.value()), "</td><td class=\"num\">", Stat(m, p.mean()),
              "</td><td class=\"num\">", Stat(m, p.lower_process_limit()),
              "</td><td class=\"num\">", Stat(m, p.upper_process_limit()), "</td><td>",
              Esc(SpecialCauseText(p)), "</td><td>", Esc(note), "</td></tr>\n");
  }
  StrAppend(out, kTableEnd, "</details>\n");
}

// ---------------------------------------------------------------- funnel

constexpr double kFunnelWidth = 800;
constexpr double kFunnelHeight = 380;
constexpr double kFunnelLeft = 64;
constexpr double kFunnelRight = 640;
constexpr double kFunnelTop = 20;
constexpr double kFunnelBottom = 320;

// A unit's value from its whole numbers, exactly as the figure tables show
// values (rounded half away from zero), so a plot and its table agree.
std::string UnitValue(const v1::Measure& m, const v1::FunnelUnit& u) {
  if (u.denominator() <= 0 || Factor(m) <= 0) return Stat(m, u.value());
  return Quotient(u.numerator(), Factor(m), u.denominator(), HumanDecimals(m), true);
}

std::string PositionText(const v1::FunnelUnit& u) {
  if (u.position_998() == "above") return "Above the 99.8% limits";
  if (u.position_998() == "below") return "Below the 99.8% limits";
  if (u.position_95() == "above") return "Above the 95% limits (within 99.8%)";
  if (u.position_95() == "below") return "Below the 95% limits (within 99.8%)";
  return "Within the limits";
}

void AppendFunnel(std::string* out, const v1::MeasureReport& mr, Names& names) {
  const v1::Measure& m = mr.measure();
  const v1::Funnel& f = mr.funnel();
  const int chart = ++names.charts;
  const std::string id = StrCat("funnel-", chart);
  const std::string name = m.name().empty() ? m.id() : m.name();
  const spc::FunnelModel model =
      f.model() == "rate" ? spc::FunnelModel::kRate : spc::FunnelModel::kProportion;
  const double factor = f.display_factor() > 0 ? f.display_factor() : 1;
  const double p = f.centre() / factor;

  std::vector<const v1::FunnelUnit*> units;
  for (const auto& u : f.units()) {
    if (u.denominator() > 0 && std::isfinite(u.value())) units.push_back(&u);
  }
  double max_d = 1, min_d = 0;
  for (const auto* u : units) {
    max_d = std::max(max_d, static_cast<double>(u->denominator()));
    min_d = min_d == 0 ? static_cast<double>(u->denominator())
                       : std::min(min_d, static_cast<double>(u->denominator()));
  }
  const Axis x_axis = NiceAxis(0, max_d * 1.05, 5);
  // y covers the centre, the units, and the 99.8% limits at half the
  // smallest denominator shown.
  double lo = f.centre(), hi = f.centre();
  for (const auto* u : units) {
    lo = std::min(lo, u->value());
    hi = std::max(hi, u->value());
  }
  {
    const double d = std::max(min_d > 0 ? min_d / 2 : max_d / 10, x_axis.hi / 100);
    const spc::FunnelLimits limits = spc::FunnelLimitsAt(model, p, d, spc::kFunnelZ998);
    lo = std::min(lo, limits.lower * factor);
    hi = std::max(hi, limits.upper * factor);
  }
  const Axis y_axis = NiceAxis(std::max(0.0, lo - (hi - lo) * 0.05), hi + (hi - lo) * 0.05, 5);
  auto x_of = [&](double d) { return kFunnelLeft + d / x_axis.hi * (kFunnelRight - kFunnelLeft); };
  auto y_of = [&](double v) {
    return kFunnelBottom - (v - y_axis.lo) / (y_axis.hi - y_axis.lo) * (kFunnelBottom - kFunnelTop);
  };

  // Text alternative.
  std::string desc = StrCat("Funnel plot of ", units.size(), " collaborative",
                            units.size() == 1 ? "" : "s", "' quarter figures against their ",
                            m.denominator_label().empty() ? "denominator" : m.denominator_label(),
                            ", around the national value ", StatWithUnit(m, f.centre()),
                            ", with 95% and 99.8% limits.");
  std::string outside_998, outside_95;
  for (const auto* u : units) {
    const std::string who = StrCat(names.Collaborative(u->id()), " ", UnitValue(m, *u));
    if (u->position_998() != "within" && !u->position_998().empty()) {
      StrAppend(&outside_998, outside_998.empty() ? "" : "; ", who, " (", u->position_998(), ")");
    } else if (u->position_95() != "within" && !u->position_95().empty()) {
      StrAppend(&outside_95, outside_95.empty() ? "" : "; ", who, " (", u->position_95(), ")");
    }
  }
  desc += outside_998.empty() ? " No collaborative lies outside the 99.8% limits."
                              : StrCat(" Outside the 99.8% limits: ", outside_998, ".");
  if (!outside_95.empty()) StrAppend(&desc, " Outside the 95% limits only: ", outside_95, ".");

  StrAppend(out, "<figure>\n<svg class=\"funnel-plot\" data-measure-id=\"", Esc(m.id()),
            "\" role=\"img\" viewBox=\"0 0 ", C(kFunnelWidth), " ", C(kFunnelHeight),
            "\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" aria-labelledby=\"", id,
            "-title ", id, "-desc\" font-size=\"12\" fill=\"", kInk, "\">\n");
  StrAppend(out, "<title id=\"", id, "-title\">Funnel plot: ", Esc(name), "</title>\n");
  StrAppend(out, "<desc id=\"", id, "-desc\">", Esc(desc), "</desc>\n");
  StrAppend(out, "<defs><clipPath id=\"", id, "-clip\"><rect x=\"", C(kFunnelLeft), "\" y=\"",
            C(kFunnelTop), "\" width=\"", C(kFunnelRight - kFunnelLeft), "\" height=\"",
            C(kFunnelBottom - kFunnelTop), "\"/></clipPath></defs>\n");
  StrAppend(out, "<rect x=\"0\" y=\"0\" width=\"", C(kFunnelWidth), "\" height=\"",
            C(kFunnelHeight), "\" fill=\"#ffffff\"/>\n");
  for (double v : Ticks(y_axis)) {
    StrAppend(out, "<line x1=\"", C(kFunnelLeft), "\" y1=\"", C(y_of(v)), "\" x2=\"",
              C(kFunnelRight), "\" y2=\"", C(y_of(v)), "\" stroke=\"#e1e1e1\"/>");
    StrAppend(out, "<text x=\"", C(kFunnelLeft - 6), "\" y=\"", C(y_of(v) + 4),
              "\" text-anchor=\"end\">", FixedDouble(v, y_axis.decimals).value_or(""), "</text>\n");
  }
  for (double d : Ticks(x_axis)) {
    StrAppend(out, "<line x1=\"", C(x_of(d)), "\" y1=\"", C(kFunnelBottom), "\" x2=\"", C(x_of(d)),
              "\" y2=\"", C(kFunnelBottom + 4), "\" stroke=\"", kGrey, "\"/>");
    StrAppend(out, "<text x=\"", C(x_of(d)), "\" y=\"", C(kFunnelBottom + 17),
              "\" text-anchor=\"middle\">",
              x_axis.decimals == 0 ? Integer(static_cast<int64_t>(std::llround(d)), true)
                                   : FixedDouble(d, x_axis.decimals).value_or(""),
              "</text>\n");
  }
  StrAppend(out, "<line x1=\"", C(kFunnelLeft), "\" y1=\"", C(kFunnelTop), "\" x2=\"",
            C(kFunnelLeft), "\" y2=\"", C(kFunnelBottom), "\" stroke=\"", kGrey, "\"/>");
  StrAppend(out, "<line x1=\"", C(kFunnelLeft), "\" y1=\"", C(kFunnelBottom), "\" x2=\"",
            C(kFunnelRight), "\" y2=\"", C(kFunnelBottom), "\" stroke=\"", kGrey, "\"/>\n");
  StrAppend(out, "<text x=\"", C((kFunnelLeft + kFunnelRight) / 2), "\" y=\"",
            C(kFunnelBottom + 40), "\" text-anchor=\"middle\">",
            Esc(Capitalised(m.denominator_label().empty() ? "denominator" : m.denominator_label())),
            " in the quarter</text>\n");

  // Limit curves, sampled more densely at small denominators where they
  // bend most; clipped to the plot.
  constexpr int kSamples = 120;
  auto curve = [&](double z, bool upper) {
    std::string path;
    for (int k = 1; k <= kSamples; ++k) {
      const double t = static_cast<double>(k) / kSamples;
      const double d = x_axis.hi * t * t;
      const spc::FunnelLimits limits = spc::FunnelLimitsAt(model, p, d, z);
      const double y = std::clamp(y_of((upper ? limits.upper : limits.lower) * factor),
                                  kFunnelTop - 40, kFunnelBottom + 40);
      StrAppend(&path, path.empty() ? "M" : " L", C(x_of(d)), ",", C(y));
    }
    return path;
  };
  StrAppend(out, "<g clip-path=\"url(#", id, "-clip)\" fill=\"none\">");
  for (bool upper : {true, false}) {
    StrAppend(out, "<path d=\"", curve(spc::kFunnelZ95, upper), "\" stroke=\"", kGrey,
              "\" stroke-width=\"1.5\" stroke-dasharray=\"7 4\"/>");
    StrAppend(out, "<path d=\"", curve(spc::kFunnelZ998, upper), "\" stroke=\"", kInk,
              "\" stroke-width=\"1.5\"/>");
  }
  StrAppend(out, "<line x1=\"", C(kFunnelLeft), "\" y1=\"", C(y_of(f.centre())), "\" x2=\"",
            C(kFunnelRight), "\" y2=\"", C(y_of(f.centre())), "\" stroke=\"", kImprovement,
            "\" stroke-width=\"2\"/></g>\n");
  {
    const spc::FunnelLimits l95 = spc::FunnelLimitsAt(model, p, x_axis.hi, spc::kFunnelZ95);
    const spc::FunnelLimits l998 = spc::FunnelLimitsAt(model, p, x_axis.hi, spc::kFunnelZ998);
    std::vector<SideLabel> labels = {
        {y_of(f.centre()), StrCat("National ", Stat(m, f.centre())), kImprovement},
        {y_of(l95.upper * factor), "95% limits", kGrey},
        {y_of(l95.lower * factor), "95% limits", kGrey},
        {y_of(l998.upper * factor), "99.8% limits", kInk},
        {y_of(l998.lower * factor), "99.8% limits", kInk},
    };
    AppendSideLabels(out, std::move(labels), kFunnelRight + 8);
  }

  // Units: outside 99.8% a square, outside 95% only a diamond, within a
  // circle; the label says which.
  for (const auto* u : units) {
    const double x = x_of(static_cast<double>(u->denominator()));
    const double y = y_of(u->value());
    const bool out998 = !u->position_998().empty() && u->position_998() != "within";
    const bool out95 = !u->position_95().empty() && u->position_95() != "within";
    const std::string who = names.Collaborative(u->id());
    const std::string tooltip =
        StrCat(who, ": ", UnitValue(m, *u), m.unit() == v1::UNIT_PROPORTION ? "%" : "", " (",
               Integer(u->numerator(), true), " / ", Integer(u->denominator(), true), ") – ",
               PositionText(*u));
    const std::string_view colour = out998 ? kConcern : out95 ? kNeither : kGrey;
    AppendMarker(out,
                 out998  ? Shape::kSquare
                 : out95 ? Shape::kDiamond
                         : Shape::kCircle,
                 colour, x, y, out998 || out95 ? 7 : 6, tooltip);
    std::string label = Cut(who, 28);
    if (out998)
      label += " (outside 99.8%)";
    else if (out95)
      label += " (outside 95%)";
    // Above the point, so that the label crosses neither the centre line
    // nor the axis; leftwards near the right edge.
    const bool left = x > kFunnelRight - 150;
    StrAppend(out, "<text x=\"", C(left ? x + 4 : x - 4), "\" y=\"", C(y - 10), "\"",
              left ? " text-anchor=\"end\"" : "", " font-size=\"11\" fill=\"", colour, "\"",
              out998 || out95 ? " font-weight=\"700\"" : "",
              " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">", Esc(label),
              "</text>\n");
  }
  *out += "</svg>\n</figure>\n";

  // Legend and data.
  StrAppend(out, "<ul class=\"legend\"><li>", LegendLine(kImprovement, "", 2),
            " National value</li><li>", LegendLine(kGrey, "7 4", 1.5), " 95% limits</li><li>",
            LegendLine(kInk, "", 1.5), " 99.8% limits</li><li>",
            LegendMarker(Shape::kCircle, kGrey), " Within the limits</li><li>",
            LegendMarker(Shape::kDiamond, kNeither), " Outside 95% only</li><li>",
            LegendMarker(Shape::kSquare, kConcern), " Outside 99.8%</li></ul>\n");

  StrAppend(out, "<details>\n<summary>Funnel plot data: ", Esc(name), "</summary>\n",
            TableStart("", StrCat("Funnel plot data: ", name, " (", UnitLabel(m), "; model ",
                                  f.model(), ", national ", Stat(m, f.centre()), ")")),
            "<thead><tr><th scope=\"col\">Collaborative</th><th scope=\"col\" "
            "class=\"num\">Numerator</th><th scope=\"col\" class=\"num\">Denominator</th><th "
            "scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">95% "
            "limits</th><th scope=\"col\" class=\"num\">99.8% limits</th><th "
            "scope=\"col\">Position</th></tr></thead>\n<tbody>\n");
  for (const auto& u : f.units()) {
    StrAppend(out, "<tr><th scope=\"row\">", Esc(names.Collaborative(u.id())),
              "</th><td class=\"num\">", Integer(u.numerator(), true), "</td><td class=\"num\">",
              Integer(u.denominator(), true), "</td><td class=\"num\">", UnitValue(m, u),
              "</td><td class=\"num\">", Stat(m, u.lower_95()), " to ", Stat(m, u.upper_95()),
              "</td><td class=\"num\">", Stat(m, u.lower_998()), " to ", Stat(m, u.upper_998()),
              "</td><td>", PositionText(u), "</td></tr>\n");
  }
  StrAppend(out, kTableEnd, "</details>\n");
}

// ---------------------------------------------------------------- measure

std::string CoverageText(const v1::Coverage& c) {
  std::string out = StrCat(Integer(c.reported(), true), " of ", Integer(c.expected(), true),
                           " organisation-months reported (", Percent(c.reported(), c.expected()),
                           "), ", Integer(c.on_time(), true), " on time");
  if (c.reported() > 0)
    StrAppend(&out, " (", Percent(c.on_time(), c.reported()), " of those reported)");
  return out;
}

std::string LearningLine(const v1::LearningItem& item, const Names& names) {
  return StrCat(Esc(LearningTitle(item)), " <span class=\"meta\">(", Esc(LearningKindText(item.kind())),
                ", ", Esc(names.Collaborative(item.collaborative_id())), ", ",
                Esc(MonthLabel(item.month())), ")</span>");
}

void AppendFigureRow(std::string* out, const v1::Measure& m, const std::string& who,
                     const v1::Figure& f, bool national) {
  const HumanValue v = HumanValueOf(m, f);
  const v1::Coverage& c = f.coverage();
  StrAppend(out, national ? "<tr class=\"national\">" : "<tr>", "<th scope=\"row\">", Esc(who),
            "</th><td class=\"num\">", Esc(v.number), Esc(v.suffix == "%" ? "%" : ""),
            "</td><td class=\"num\">", Integer(f.numerator(), true), "</td>");
  if (IsRatio(m)) StrAppend(out, "<td class=\"num\">", Integer(f.denominator(), true), "</td>");
  StrAppend(out, "<td class=\"num\">", Integer(c.reported(), true), " / ",
            Integer(c.expected(), true), "</td><td class=\"num\">",
            Percent(c.reported(), c.expected()), "</td><td class=\"num\">",
            Integer(c.on_time(), true), "</td></tr>\n");
}

void AppendMeasure(std::string* out, const v1::QuarterlyReport& report, const v1::MeasureReport& mr,
                   Names& names, const std::string& anchor) {
  const v1::Measure& m = mr.measure();
  const std::string name = m.name().empty() ? m.id() : m.name();
  StrAppend(out, "<section class=\"measure\" id=\"", anchor, "\" aria-labelledby=\"", anchor,
            "-h\">\n<h4 id=\"", anchor, "-h\">", Esc(name), "</h4>\n");
  StrAppend(out, "<dl class=\"definition\"><dt>Measure</dt><dd><code>", Esc(m.id()),
            "</code></dd><dt>Unit</dt><dd>", Esc(UnitLabel(m)), "</dd>");
  if (!m.numerator_label().empty() || !m.denominator_label().empty()) {
    StrAppend(out, "<dt>Counts</dt><dd>", Esc(m.numerator_label()),
              m.denominator_label().empty() ? "" : " / ", Esc(m.denominator_label()), "</dd>");
  }
  StrAppend(out, "<dt>Direction</dt><dd>", DirectionText(m.improvement()),
            "</dd><dt>Target</dt><dd>",
            m.has_target() ? Esc(StatWithUnit(m, m.target())) : std::string("None"),
            "</dd><dt>Aggregation</dt><dd>", AggregationText(m.aggregation()), "</dd></dl>\n");

  // The national figure.
  const HumanValue v = HumanValueOf(m, mr.national());
  StrAppend(out, "<p class=\"national\">National figure for ", Esc(report.quarter()),
            ": <span class=\"figure\">", Esc(v.number), Esc(v.suffix), "</span>");
  if (mr.national().coverage().reported() > 0) {
    if (IsRatio(m)) {
      StrAppend(out, " (", Integer(mr.national().numerator(), true), " / ",
                Integer(mr.national().denominator(), true), ")");
    }
  }
  StrAppend(out, "<br>Coverage: ", CoverageText(mr.national().coverage()), ".</p>\n");

  // The signal, and the learning beside it.
  if (mr.has_spc()) {
    const v1::SpcSummary& s = mr.spc();
    StrAppend(out, "<div class=\"signal\"><span class=\"badge\">", VariationBadge(s.variation()),
              "<span><strong>Variation:</strong> ", Esc(VariationText(s.variation())),
              "</span></span><span class=\"badge\">", AssuranceBadge(s.assurance()),
              "<span><strong>Assurance:</strong> ", Esc(AssuranceText(s.assurance())),
              "</span></span></div>\n");
    StrAppend(out, "<p>Mean ", Esc(StatWithUnit(m, s.mean())), ", process limits ",
              Stat(m, s.lower_process_limit()), " to ", Stat(m, s.upper_process_limit()), " over ",
              s.points(), " month", s.points() == 1 ? "" : "s",
              s.per_organisation() ? " (per enrolled organisation)" : "", ".</p>\n");
  }
  if (mr.learning_size() > 0) {
    *out += "<h5>Learning linked to this measure</h5>\n<ul class=\"linked-learning\">\n";
    for (const auto& item : mr.learning())
      StrAppend(out, "<li>", LearningLine(item, names), "</li>\n");
    *out += "</ul>\n";
  }

  // The chart.
  if (mr.spc_points_size() > 0) {
    StrAppend(out, "<h5>National monthly chart</h5>\n");
    AppendSpcChart(out, report, mr, names);
    StrAppend(out, "<ul class=\"legend\"><li>", LegendMarker("", false), " Common cause</li><li>",
              LegendMarker("improvement", true), " Improvement</li><li>",
              LegendMarker("concern", true), " Concern</li><li>", LegendMarker("neutral", true),
              " Neither</li><li>", LegendLine(kInk, "", 1.5), " Mean</li><li>",
              LegendLine(kGrey, "7 4", 1.5), " Process limits</li><li>",
              LegendLine(kLight, "2 4", 1), " Near limits</li>",
              m.has_target() ? StrCat("<li>", LegendLine(kTarget, "10 3 2 3", 1.5), " Target</li>")
                             : std::string(),
              "</ul>\n");
    const v1::SpcSegment* last =
        mr.spc_segments_size() > 0 ? &mr.spc_segments(mr.spc_segments_size() - 1) : nullptr;
    if ((last != nullptr && last->trial_limits()) || (last == nullptr && mr.spc().trial_limits())) {
      *out +=
          "<p class=\"note\">Trial limits: fewer than 12 points lie behind the latest limits, "
          "so they may move as months are added.</p>\n";
    }
    if (mr.spc().per_organisation()) {
      *out +=
          "<p class=\"note\">Per enrolled organisation: each month's national count is "
          "divided by the organisations enrolled that month, so a growing programme does not "
          "read as a change.</p>\n";
    }
    if (mr.chart_learning_size() > 0) {
      *out += "<p>Changes marked on the chart:</p>\n<ol class=\"chart-learning\">\n";
      for (const auto& item : mr.chart_learning()) {
        StrAppend(out, "<li>", LearningLine(item, names), "</li>\n");
      }
      *out += "</ol>\n";
    }
    AppendSpcTable(out, mr);
  } else if (mr.has_spc()) {
    *out +=
        "<p class=\"no-chart\">No chart yet: this report does not carry the monthly points "
        "behind the SPC summary.</p>\n";
  } else {
    *out += "<p class=\"no-chart\">No data yet: no month has a value, so there is no chart.</p>\n";
  }

  if (mr.has_funnel() && mr.funnel().units_size() > 0) {
    StrAppend(out, "<h5>Collaboratives against the national value</h5>\n");
    AppendFunnel(out, mr, names);
  }

  // The collaboratives.
  StrAppend(out, TableStart("areas", StrCat(name, ": figures for ", report.quarter())),
            "<thead><tr><th scope=\"col\">Area</th><th scope=\"col\" "
            "class=\"num\">Value",
            m.unit() == v1::UNIT_RATE ? StrCat(" (", Esc(UnitLabel(m)), ")") : std::string(),
            "</th><th scope=\"col\" class=\"num\">Numerator</th>",
            IsRatio(m) ? "<th scope=\"col\" class=\"num\">Denominator</th>" : "",
            "<th scope=\"col\" class=\"num\">Reported / expected</th><th scope=\"col\" "
            "class=\"num\">Coverage</th><th scope=\"col\" class=\"num\">On time</th></tr></thead>"
            "\n<tbody>\n");
  AppendFigureRow(out, m, "England", mr.national(), true);
  for (const auto& area : mr.collaboratives()) {
    AppendFigureRow(out, m, names.Collaborative(area.collaborative_id()), area.figure(), false);
  }
  StrAppend(out, kTableEnd, "</section>\n");
}

// ---------------------------------------------------------------- sections

void AppendRevisions(std::string* out, const google::protobuf::RepeatedPtrField<v1::Revision>& list,
                     std::string_view caption, std::string_view then_header, const Names& names) {
  if (list.empty()) return;
  StrAppend(out, TableStart("revisions", std::string(caption)),
            "<thead><tr><th scope=\"col\">Measure</th><th scope=\"col\">Area</th><th "
            "scope=\"col\">Figure</th><th scope=\"col\" class=\"num\">",
            then_header,
            "</th><th scope=\"col\" class=\"num\">Current</th></tr></thead>\n<tbody>\n");
  auto number = [&](const v1::Revision& r, bool has, double v) -> std::string {
    if (!has) return "none";
    if (r.field() == "value") {
      auto it = names.measures.find(r.measure_id());
      return it == names.measures.end() ? FixedDouble(v, 4).value_or("–") : Stat(*it->second, v);
    }
    if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.0e15) {
      return Integer(static_cast<int64_t>(v), true);
    }
    return FixedDouble(v, 4).value_or("–");
  };
  for (const auto& r : list) {
    StrAppend(out, "<tr><td>", Esc(names.Measure(r.measure_id())), "</td><td>",
              Esc(r.area() == "national" ? std::string("England") : names.Collaborative(r.area())),
              "</td><td>", Esc(r.field()), "</td><td class=\"num\">",
              number(r, r.has_published(), r.published()), "</td><td class=\"num\">",
              number(r, r.has_current(), r.current()), "</td></tr>\n");
  }
  *out += kTableEnd;
}

void AppendHowToRead(std::string* out) {
  StrAppend(
      out,
      "<section id=\"how-to-read\" aria-labelledby=\"how-to-read-h\">\n"
      "<h2 id=\"how-to-read-h\">How to read this</h2>\n"
      "<p>Each measure shows its national figure for the quarter with its coverage "
      "(organisation-months reported against those enrolled, and how many arrived on time), "
      "then the national monthly values on an XmR chart, as NHS England's <i>Making Data "
      "Count</i> uses it.</p>\n"
      "<ul>\n"
      "<li>The <strong>mean</strong> is the centre line. The <strong>process limits</strong> lie "
      "at mean ± 2.66 × the mean moving range (the average difference between consecutive "
      "months): about three sigma. The light dashed <strong>near limits</strong> lie two thirds "
      "of the way (two sigma).</li>\n"
      "<li>A point is a <strong>special cause</strong> when one of these rules flags it, in "
      "this order of priority: (1) a point outside the process limits; (2) a trend: 7 points "
      "in a row each rising, or each falling; (3) 2 of 3 points in a row near a limit: all "
      "three on the same side of the mean, and at least two of them beyond the near limit "
      "but inside the process limit (only those two or three are marked); (4) a shift: 7 "
      "points in a row on the same side of the mean. Otherwise the "
      "variation is <strong>common cause</strong>: what the process does by chance.</li>\n"
      "<li>A special cause is an <strong>improvement</strong> or a <strong>concern</strong> "
      "by the measure's direction, or <strong>neither</strong> when the measure has no "
      "direction. Each has its own colour and shape, and the data table under every chart "
      "names it.</li>\n"
      "<li>After a <strong>rebase</strong> (a dotted vertical line, labelled with its reason "
      "and who recorded it) the limits are recalculated. With fewer than 12 points behind them "
      "the limits are <strong>trial limits</strong>. Numbered markers show "
      "<strong>changes</strong> made (learning shared) at their month.</li>\n"
      "<li>The <strong>variation icon</strong> tells what the latest point says (H: high, L: "
      "low); the <strong>assurance icon</strong> tells whether the process can be relied on to "
      "meet its target: P consistently passes, F consistently fails, ? inconsistent.</li>\n"
      "<li><strong>Funnel plots</strong> compare the collaboratives' quarter figures for "
      "proportions and rates with the national value. The limits narrow as the denominator "
      "grows: a collaborative inside the 95% (dashed) and 99.8% (solid) limits differs from the "
      "national value no more than chance alone would make it (binomial limits for "
      "proportions, Poisson for rates); outside the 99.8% limits it is very unlikely to be "
      "chance.</li>\n"
      "</ul>\n"
      "<ul class=\"legend\">",
      "<li>", LegendMarker("", false), " Common cause</li>", "<li>",
      LegendMarker("improvement", true), " Special cause improvement</li>", "<li>",
      LegendMarker("concern", true), " Special cause concern</li>", "<li>",
      LegendMarker("neutral", true), " Special cause, neither</li>", "<li>",
      LegendLine(kInk, "", 1.5), " Mean</li>", "<li>", LegendLine(kGrey, "7 4", 1.5),
      " Process limits</li>", "<li>", LegendLine(kLight, "2 4", 1), " Near limits</li>", "<li>",
      LegendLine(kTarget, "10 3 2 3", 1.5), " Target</li>", "</ul>\n",
      "<p>This is an internal report: figures are exact and small numbers are not "
      "suppressed.</p>\n</section>\n");
}

void AppendLearning(std::string* out, const v1::QuarterlyReport& report, const Names& names) {
  *out +=
      "<section id=\"learning\" aria-labelledby=\"learning-h\">\n<h2 id=\"learning-h\">"
      "Learning</h2>\n";
  if (report.learning().empty()) {
    *out += "<p>No learning was shared for the quarter's months.</p>\n</section>\n";
    return;
  }
  StrAppend(out,
            TableStart("", StrCat("Learning shared for ", report.quarter(),
                                  ", by collaborative and topic")),
            "<thead><tr><th "
            "scope=\"col\">Collaborative</th><th scope=\"col\">Topic</th><th scope=\"col\" "
            "class=\"num\">Case studies</th><th scope=\"col\" class=\"num\">Stories</th><th "
            "scope=\"col\" class=\"num\">Innovative practice</th><th scope=\"col\" "
            "class=\"num\">What did not work</th><th scope=\"col\">Titles</th></tr></thead>\n"
            "<tbody>\n");
  for (const auto& s : report.learning()) {
    StrAppend(out, "<tr><th scope=\"row\">", Esc(names.Collaborative(s.collaborative_id())),
              "</th><td>", Esc(names.Topic(s.topic_id())), "</td><td class=\"num\">",
              s.case_studies(), "</td><td class=\"num\">", s.stories(), "</td><td class=\"num\">",
              s.innovative_practice(), "</td><td class=\"num\">", s.what_did_not_work(),
              "</td><td><ul>");
    for (const auto& item : s.items()) {
      StrAppend(out, "<li>", Esc(LearningTitle(item)), " (", Esc(LearningKindText(item.kind())), ", ",
                Esc(MonthLabel(item.month())), ")</li>");
    }
    *out += "</ul></td></tr>\n";
  }
  StrAppend(out, kTableEnd, "</section>\n");
}

void AppendOutstanding(std::string* out, const v1::QuarterlyReport& report, Names& names) {
  *out +=
      "<section id=\"returns\" aria-labelledby=\"returns-h\">\n<h2 id=\"returns-h\">"
      "Coverage and outstanding returns</h2>\n";
  if (report.outstanding().empty()) {
    *out +=
        "<p>This report carries no month-by-month returns; each measure above shows its "
        "coverage.</p>\n</section>\n";
    return;
  }
  *out += "<p>Returns are counted in organisation and measure pairs enrolled for the month.</p>\n";
  for (const auto& month : report.outstanding()) {
    const std::string label = MonthLabel(month.month());
    const std::string anchor = names.UniqueId(StrCat("returns-", Slug(month.month())));
    StrAppend(out, "<h3 id=\"", anchor, "\">", Esc(label), "</h3>\n");
    if (month.collaboratives().empty()) {
      *out += "<p>No organisation was enrolled to report in this month.</p>\n";
      continue;
    }
    StrAppend(out, TableStart("", StrCat("Returns for ", label, " by collaborative")),
              "<thead><tr><th scope=\"col\">Collaborative</th><th "
              "scope=\"col\" class=\"num\">Expected</th><th scope=\"col\" "
              "class=\"num\">Reported</th><th scope=\"col\" class=\"num\">On time</th><th "
              "scope=\"col\" class=\"num\">Reported %</th><th scope=\"col\" class=\"num\">On time "
              "%</th></tr></thead>\n<tbody>\n");
    int64_t expected = 0, reported = 0, on_time = 0;
    size_t organisations = 0;
    for (const auto& c : month.collaboratives()) {
      expected += c.expected();
      reported += c.reported();
      on_time += c.on_time();
      organisations += static_cast<size_t>(c.outstanding_size());
      StrAppend(out, "<tr><th scope=\"row\">", Esc(names.Collaborative(c.collaborative_id())),
                "</th><td class=\"num\">", Integer(c.expected(), true), "</td><td class=\"num\">",
                Integer(c.reported(), true), "</td><td class=\"num\">", Integer(c.on_time(), true),
                "</td><td class=\"num\">", Percent(c.reported(), c.expected()),
                "</td><td class=\"num\">", Percent(c.on_time(), c.expected()), "</td></tr>\n");
    }
    StrAppend(out, "<tr class=\"national\"><th scope=\"row\">England</th><td class=\"num\">",
              Integer(expected, true), "</td><td class=\"num\">", Integer(reported, true),
              "</td><td class=\"num\">", Integer(on_time, true), "</td><td class=\"num\">",
              Percent(reported, expected), "</td><td class=\"num\">", Percent(on_time, expected),
              "</td></tr>\n", kTableEnd);
    if (organisations == 0) {
      *out += "<p>Every enrolled organisation has reported every measure.</p>\n";
      continue;
    }
    StrAppend(out, "<details>\n<summary>Organisations with returns outstanding for ", Esc(label),
              " (", organisations, ")</summary>\n<ul>\n");
    for (const auto& c : month.collaboratives()) {
      if (c.outstanding().empty()) continue;
      StrAppend(out, "<li>", Esc(names.Collaborative(c.collaborative_id())), "\n<ul>\n");
      for (const auto& org : c.outstanding()) {
        StrAppend(out, "<li><code>", Esc(org.ods_code()), "</code> ", Esc(org.name()),
                  ": missing ");
        for (int i = 0; i < org.measure_ids_size(); ++i) {
          StrAppend(out, i > 0 ? "; " : "", Esc(names.Measure(org.measure_ids(i))));
        }
        *out += "</li>\n";
      }
      *out += "</ul>\n</li>\n";
    }
    *out += "</ul>\n</details>\n";
  }
  *out += "</section>\n";
}

void AppendSignOffs(std::string* out, const v1::QuarterlyReport& report, const Names& names) {
  *out +=
      "<section id=\"sign-offs\" aria-labelledby=\"sign-offs-h\">\n<h2 id=\"sign-offs-h\">"
      "Sign-offs</h2>\n";
  if (report.sign_offs().empty()) {
    *out += "<p>No collaborative has signed off this quarter.</p>\n</section>\n";
    return;
  }
  StrAppend(out,
            TableStart("", StrCat("Collaboratives that signed off ", report.quarter(),
                                  " (their latest sign-off)")),
            "<thead><tr><th scope=\"col\">Collaborative</th>"
            "<th scope=\"col\">Sign-off</th><th scope=\"col\" class=\"num\">Log position</th><th "
            "scope=\"col\" class=\"num\">Figures as of</th><th scope=\"col\">Signed off at</th>"
            "<th scope=\"col\">By</th><th scope=\"col\" class=\"num\">Revisions since</th></tr>"
            "</thead>\n<tbody>\n");
  for (const auto& s : report.sign_offs()) {
    StrAppend(out, "<tr><th scope=\"row\">", Esc(names.Collaborative(s.collaborative_id())),
              "</th><td><code>", Esc(s.sign_off_id()), "</code></td><td class=\"num\">",
              s.position(), "</td><td class=\"num\">", s.as_of_position(), "</td><td>",
              s.has_signed_off_at() ? Esc(LondonDateTime(s.signed_off_at())) : std::string("–"),
              "</td><td>", Esc(s.principal()), "</td><td class=\"num\">", s.revisions_size(),
              "</td></tr>\n");
  }
  *out += kTableEnd;
  for (const auto& s : report.sign_offs()) {
    const std::string who = names.Collaborative(s.collaborative_id());
    StrAppend(out, "<h3>", Esc(who), ": revisions since sign-off</h3>\n");
    if (s.revisions().empty()) {
      StrAppend(out, "<p>No revisions: the figures ", Esc(who),
                " signed off are the figures now.</p>\n");
      continue;
    }
    AppendRevisions(out, s.revisions(),
                    StrCat("Figures of ", who, " changed since sign-off ", s.sign_off_id()),
                    "Signed off", names);
  }
  *out += "</section>\n";
}

void AppendPublication(std::string* out, const v1::QuarterlyReport& report, const Names& names) {
  *out +=
      "<section id=\"publication\" aria-labelledby=\"publication-h\">\n<h2 "
      "id=\"publication-h\">Publication</h2>\n";
  if (!report.has_publication()) {
    StrAppend(out, "<p>", Esc(report.quarter()),
              " had not been published at this report's log position.</p>\n</section>\n");
    return;
  }
  const v1::PublicationNote& p = report.publication();
  StrAppend(out, "<p>Published as <code>", Esc(p.publication_id()), "</code> at log position ",
            p.position(), " (figures as of position ", p.as_of_position(), ").</p>\n");
  if (p.revisions().empty()) {
    *out += "<p>No revisions since publication.</p>\n";
  } else {
    AppendRevisions(out, p.revisions(), "Figures revised since publication", "Published", names);
  }
  *out += "</section>\n";
}

}  // namespace

std::string RenderHtml(const v1::QuarterlyReport& report) {
  Names names;
  for (const auto& c : report.collaboratives()) names.collaboratives[c.id()] = c.name();
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      names.topics[topic.topic().id()] = topic.topic().name();
      for (const auto& mr : topic.measures()) names.measures[mr.measure().id()] = &mr.measure();
    }
  }
  for (const char* fixed :
       {"main", "contents", "contents-h", "how-to-read", "how-to-read-h", "learning", "learning-h",
        "returns", "returns-h", "sign-offs", "sign-offs-h", "publication", "publication-h"}) {
    names.used_ids.insert(fixed);
  }
  // Anchors of types, topics and measures, in report order.
  std::vector<std::string> type_ids, topic_ids, measure_ids;
  for (const auto& type : report.types()) {
    type_ids.push_back(names.UniqueId(StrCat("type-", TypeName(type.type()))));
    for (const auto& topic : type.topics()) {
      topic_ids.push_back(
          names.UniqueId(StrCat("topic-", TypeName(type.type()), "-", Slug(topic.topic().id()))));
      for (const auto& mr : topic.measures()) {
        measure_ids.push_back(names.UniqueId(StrCat("m-", Slug(mr.measure().id()))));
      }
    }
  }

  const std::string title = StrCat("National quarterly aggregate ", report.quarter());
  std::string out;
  out.reserve(64 * 1024);
  StrAppend(&out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
            Esc(title), " – Patient Safety Collaboratives</title>\n<style>", kStyle,
            "</style>\n</head>\n<body>\n"
            "<a class=\"skip\" href=\"#main\">Skip to main content</a>\n<header>\n<h1>",
            Esc(title), "</h1>\n");
  StrAppend(&out,
            "<p class=\"meta\">Patient Safety Collaboratives: input, process, outcome and "
            "balancing measures for ",
            Esc(report.quarter()), " (", Esc(MonthLabel(report.first_month())), " to ",
            Esc(MonthLabel(report.last_month())), ").</p>\n<p class=\"meta\">Log position ",
            report.as_of_position(), " · ", report.collaboratives_size(), " collaborative",
            report.collaboratives_size() == 1 ? "" : "s", "</p>\n</header>\n");

  // Contents.
  out +=
      "<nav id=\"contents\" aria-labelledby=\"contents-h\">\n<h2 id=\"contents-h\">Contents</h2>\n"
      "<ul>\n<li><a href=\"#how-to-read\">How to read this</a></li>\n";
  {
    size_t t = 0, p = 0, mi = 0;
    for (const auto& type : report.types()) {
      StrAppend(&out, "<li><a href=\"#", type_ids[t++], "\">", Capitalised(TypeName(type.type())),
                " measures</a>\n<ul>\n");
      for (const auto& topic : type.topics()) {
        const std::string& tn =
            topic.topic().name().empty() ? topic.topic().id() : topic.topic().name();
        StrAppend(&out, "<li><a href=\"#", topic_ids[p++], "\">", Esc(tn), "</a>\n<ul>\n");
        for (const auto& mr : topic.measures()) {
          const std::string& mn =
              mr.measure().name().empty() ? mr.measure().id() : mr.measure().name();
          StrAppend(&out, "<li><a href=\"#", measure_ids[mi++], "\">", Esc(mn), "</a></li>\n");
        }
        out += "</ul>\n</li>\n";
      }
      out += "</ul>\n</li>\n";
    }
  }
  out +=
      "<li><a href=\"#learning\">Learning</a></li>\n"
      "<li><a href=\"#returns\">Coverage and outstanding returns</a></li>\n"
      "<li><a href=\"#sign-offs\">Sign-offs</a></li>\n"
      "<li><a href=\"#publication\">Publication</a></li>\n</ul>\n</nav>\n";

  out += "<main id=\"main\" tabindex=\"-1\">\n";
  AppendHowToRead(&out);
  if (report.types().empty()) out += "<p>No measures in the catalogue.</p>\n";
  {
    size_t t = 0, p = 0, mi = 0;
    for (const auto& type : report.types()) {
      const std::string& tid = type_ids[t++];
      StrAppend(&out, "<section id=\"", tid, "\" aria-labelledby=\"", tid, "-h\">\n<h2 id=\"", tid,
                "-h\">", Capitalised(TypeName(type.type())), " measures</h2>\n");
      for (const auto& topic : type.topics()) {
        const std::string& pid = topic_ids[p++];
        const std::string& tn =
            topic.topic().name().empty() ? topic.topic().id() : topic.topic().name();
        StrAppend(&out, "<section id=\"", pid, "\" aria-labelledby=\"", pid, "-h\">\n<h3 id=\"",
                  pid, "-h\">", Esc(tn), "</h3>\n");
        for (const auto& mr : topic.measures())
          AppendMeasure(&out, report, mr, names, measure_ids[mi++]);
        out += "</section>\n";
      }
      out += "</section>\n";
    }
  }
  AppendLearning(&out, report, names);
  AppendOutstanding(&out, report, names);
  AppendSignOffs(&out, report, names);
  AppendPublication(&out, report, names);
  StrAppend(&out, "</main>\n<footer>\n<p class=\"meta\">Rendered from log position ",
            report.as_of_position(),
            ": the same position always gives the same page.</p>\n</footer>\n</body>\n</html>\n");
  return out;
}

}  // namespace psc::report
