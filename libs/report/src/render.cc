#include "psc/report/render.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "psc/domain/clock.h"
#include "psc/domain/number_format.h"
#include "psc/domain/period.h"
#include "psc/domain/strings.h"
#include "render_internal.h"

namespace psc::report {
namespace internal {

// ---------------------------------------------------------------- names

namespace {

// The lowercase name of an enum value without the enum's prefix
// (MEASURE_TYPE_INPUT -> "input"), from the proto's own names; "unspecified"
// for the zero value and for any value the enum does not define. Every psc
// enum's zero value is <PREFIX>UNSPECIFIED.
template <typename E>
std::string_view ShortName(E value) {
  static const std::map<int, std::string> kNames = [] {
    const google::protobuf::EnumDescriptor* d = google::protobuf::GetEnumDescriptor<E>();
    std::string prefix = d->value(0)->name();
    prefix.resize(prefix.size() - std::string_view("UNSPECIFIED").size());
    std::map<int, std::string> names;
    for (int i = 0; i < d->value_count(); ++i) {
      std::string name = d->value(i)->name().substr(prefix.size());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      names.emplace(d->value(i)->number(), std::move(name));
    }
    return names;
  }();
  auto it = kNames.find(static_cast<int>(value));
  return it == kNames.end() ? std::string_view("unspecified") : std::string_view(it->second);
}

}  // namespace

std::string_view TypeName(v1::MeasureType t) { return ShortName(t); }
std::string_view UnitName(v1::Unit u) { return ShortName(u); }
std::string_view AggregationName(v1::Aggregation a) { return ShortName(a); }
std::string_view DirectionName(v1::Direction d) { return ShortName(d); }
std::string_view LearningKindName(v1::LearningKind k) { return ShortName(k); }

std::string_view LearningTitle(const v1::LearningItem& item) {
  if (item.text_erased()) return "(text erased on request)";
  if (item.title().empty()) return "(text not published)";
  return item.title();
}

std::string MonthLabel(const std::string& text) {
  static constexpr const char* kNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto m = Month::Parse(text);
  if (!m) return text;
  return StrCat(kNames[m->month() - 1], " ", m->year());
}

// ---------------------------------------------------------------- values

bool IsRatio(const v1::Measure& m) {
  return m.unit() == v1::UNIT_PROPORTION || m.unit() == v1::UNIT_RATE;
}

int64_t Factor(const v1::Measure& m) {
  return m.unit() == v1::UNIT_PROPORTION ? 100 : m.unit() == v1::UNIT_RATE ? m.rate_per() : 1;
}

std::string UnitLabel(const v1::Measure& m) {
  switch (m.unit()) {
    case v1::UNIT_PROPORTION:
      return "%";
    case v1::UNIT_RATE:
      return m.denominator_label().empty()
                 ? StrCat("per ", Integer(m.rate_per(), true))
                 : StrCat("per ", Integer(m.rate_per(), true), " ", m.denominator_label());
    default:
      return "count";
  }
}

std::optional<std::string> ShortestDouble(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return std::nullopt;
  return std::string(buf, end);
}

std::optional<std::string> FixedDouble(double v, int decimals) {
  if (!std::isfinite(v)) return std::nullopt;
  char buf[400];  // |v| < 1.8e308: 309 digits, sign, point and 17 places
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed,
                                 std::clamp(decimals, 0, 17));
  if (ec != std::errc()) return std::nullopt;
  std::string out(buf, end);
  if (out.front() == '-' && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::optional<std::string> MachineValue(const v1::Measure& m, const v1::Figure& f) {
  if (!f.has_value()) return std::nullopt;
  if (!IsRatio(m)) return Integer(f.numerator(), false);
  if (f.denominator() == 0 || Factor(m) == 0) return ShortestDouble(f.value());
  return Quotient(f.numerator(), Factor(m), f.denominator(), 4, false);
}

HumanValue HumanValueOf(const v1::Measure& m, const v1::Figure& f) {
  HumanValue out;
  if (f.coverage().reported() <= 0) {
    out.number = "no data";
  } else if (!f.has_value()) {
    out.number = "–";
  } else if (m.unit() == v1::UNIT_PROPORTION && f.denominator() != 0) {
    out.number = Quotient(f.numerator(), 100, f.denominator(), 1, true);
    out.suffix = "%";
  } else if (m.unit() == v1::UNIT_RATE && f.denominator() != 0) {
    out.number = Quotient(f.numerator(), m.rate_per(), f.denominator(), 2, true);
    out.suffix = StrCat(" ", UnitLabel(m));
  } else {
    out.number = Integer(f.numerator(), true);
  }
  return out;
}

int HumanDecimals(const v1::Measure& m) { return m.unit() == v1::UNIT_PROPORTION ? 1 : 2; }

// ---------------------------------------------------------------- time

namespace {

std::string TwoDigits(int v) { return StrCat(v < 10 ? "0" : "", v); }

}  // namespace

std::string Rfc3339Utc(const google::protobuf::Timestamp& t) {
  using namespace std::chrono;
  const sys_seconds instant{seconds(t.seconds())};
  const sys_days day = floor<days>(instant);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{instant - day};
  std::string out = StrCat(static_cast<int>(ymd.year()), "-",
                           TwoDigits(static_cast<int>(static_cast<unsigned>(ymd.month()))), "-",
                           TwoDigits(static_cast<int>(static_cast<unsigned>(ymd.day()))), "T",
                           TwoDigits(static_cast<int>(time.hours().count())), ":",
                           TwoDigits(static_cast<int>(time.minutes().count())), ":",
                           TwoDigits(static_cast<int>(time.seconds().count())));
  if (int32_t nanos = t.nanos(); nanos > 0 && nanos < 1000000000) {
    std::string digits = StrCat(nanos + 1000000000).substr(1);  // 9 digits
    while (digits.size() > 3 && digits.ends_with("000")) digits.resize(digits.size() - 3);
    StrAppend(&out, ".", digits);
  }
  out += "Z";
  return out;
}

std::string LondonDateTime(const google::protobuf::Timestamp& t) {
  static constexpr const char* kNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const LondonTime l = ToLondon(TimePoint(std::chrono::seconds(t.seconds())));
  return StrCat(l.day, " ", kNames[(l.month + 11) % 12], " ", l.year, " ", TwoDigits(l.hour), ":",
                TwoDigits(l.minute), l.summer_time ? " BST" : " GMT");
}

}  // namespace internal

using namespace internal;

namespace {

// ---------------------------------------------------------------- text

constexpr size_t kMaxNameColumns = 60;
constexpr int kBarCells = 10;

std::string PadRight(std::string s, size_t width) {
  size_t cols = Columns(s);
  if (cols < width) s.append(width - cols, ' ');
  return s;
}

std::string PadLeft(const std::string& s, size_t width) {
  size_t cols = Columns(s);
  return cols < width ? std::string(width - cols, ' ') + s : s;
}

// Cuts UTF-8 text to `width` columns, ending in "…" when cut.
std::string Fit(const std::string& s, size_t width) {
  if (Columns(s) <= width) return s;
  std::string out;
  size_t cols = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (cols == width - 1) break;
      ++cols;
    }
    out.push_back(s[i]);
  }
  return out + "…";
}

// Coverage as a bar of kBarCells cells in eighths: full blocks, one partial
// block, light shade for the rest; rounded half up to the nearest eighth.
std::string CoverageBar(int64_t reported, int64_t expected) {
  if (expected <= 0) return "";
  static constexpr const char* kPartial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int64_t total = kBarCells * 8;
  int64_t clamped = std::clamp<int64_t>(reported, 0, expected);
  // Integer arithmetic, exact while expected < 2^55 (organisation-months
  // are far fewer).
  int64_t eighths = (clamped * total * 2 + expected) / (expected * 2);
  std::string out;
  int cells = 0;
  for (; cells < eighths / 8; ++cells) out += "█";
  if (eighths % 8 != 0) {
    out += kPartial[eighths % 8];
    ++cells;
  }
  for (; cells < kBarCells; ++cells) out += "░";
  return out;
}

// One line under a measure's national row: what its XmR chart says.
std::string SpcLine(const v1::SpcSummary& spc) {
  char limits[160];
  std::snprintf(limits, sizeof limits, "mean %.3f, process limits %.3f to %.3f", spc.mean(),
                spc.lower_process_limit(), spc.upper_process_limit());
  return StrCat("  SPC: ", spc.variation(), ", assurance ", spc.assurance(), "; ", limits,
                " over ", spc.points(), " months", spc.per_organisation() ? " (per organisation)" : "",
                spc.trial_limits() ? " (trial limits)" : "");
}

struct TextRow {
  std::string name;    // with its indentation
  std::string number;  // right-aligned
  std::string suffix;  // unit after the number
  std::string numden;
  std::string coverage;
  std::string bar;
};

TextRow RowOf(std::string name, const v1::Measure& m, const v1::Figure& f) {
  TextRow row;
  row.name = std::move(name);
  const int64_t reported = f.coverage().reported();
  const int64_t expected = f.coverage().expected();
  HumanValue value = HumanValueOf(m, f);
  row.number = std::move(value.number);
  row.suffix = std::move(value.suffix);
  if (reported <= 0) {
    row.numden = "–";
  } else if (IsRatio(m)) {
    row.numden = StrCat(Integer(f.numerator(), true), " / ", Integer(f.denominator(), true));
  } else {
    row.numden = Integer(f.numerator(), true);
  }
  row.coverage = StrCat(Integer(reported, true), "/", Integer(expected, true));
  if (expected > 0) {
    StrAppend(&row.coverage, " (", Quotient(reported, 100, expected, 1, false), "%)");
  }
  row.bar = CoverageBar(reported, expected);
  return row;
}

std::string RightTrimmed(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

namespace {

// One line per month of the quarter: returns (organisation x measure)
// reported of those enrolled, on time, and organisations still owing.
void AppendReturnsText(const v1::QuarterlyReport& report, std::string& out) {
  if (report.outstanding_size() == 0) return;
  out += "\nRETURNS (organisation x measure, per month)\n";
  for (const v1::OutstandingReturns& month : report.outstanding()) {
    int64_t expected = 0, reported = 0, on_time = 0, owing = 0;
    for (const auto& c : month.collaboratives()) {
      expected += c.expected();
      reported += c.reported();
      on_time += c.on_time();
      owing += c.outstanding_size();
    }
    StrAppend(&out, MonthLabel(month.month()), ": ", Grouped(reported), " of ", Grouped(expected),
              " reported, ", Grouped(on_time), " on time; ", Grouped(owing),
              owing == 1 ? " organisation" : " organisations", " with returns outstanding\n");
  }
}

// Revisions, as integers: the value follows from numerator and denominator,
// so it is not repeated.
template <typename NameOf>
void AppendRevisionList(const google::protobuf::RepeatedPtrField<v1::Revision>& revisions,
                        const NameOf& name_of, std::string& out) {
  size_t shown = 0;
  for (const v1::Revision& r : revisions) {
    if (r.field() == "value") continue;
    auto number = [](bool has, double v) {
      return has ? Grouped(static_cast<int64_t>(std::llround(v))) : std::string("none");
    };
    StrAppend(&out, "  ", r.measure_id(), " / ",
              r.area() == "national" ? std::string("national") : name_of(r.area()), " ",
              r.field(), ": ", number(r.has_published(), r.published()), " -> ",
              number(r.has_current(), r.current()), "\n");
    ++shown;
  }
  if (shown == 0) out += "  No revisions.\n";
}

template <typename NameOf>
void AppendRevisionsText(const v1::QuarterlyReport& report, const NameOf& name_of,
                         std::string& out) {
  if (report.sign_offs_size() > 0) {
    out += "\nSIGN-OFFS (figures changed since each collaborative signed off)\n";
    for (const v1::SignOff& s : report.sign_offs()) {
      StrAppend(&out, name_of(s.collaborative_id()), ": signed off as ", s.sign_off_id(),
                " at log position ", s.position(), " by ", s.principal(), "\n");
      AppendRevisionList(s.revisions(), name_of, out);
    }
  }
  if (report.has_publication()) {
    const v1::PublicationNote& p = report.publication();
    StrAppend(&out, "\nREVISIONS SINCE PUBLICATION ", p.publication_id(), " (log position ",
              p.position(), ")\n");
    AppendRevisionList(p.revisions(), name_of, out);
  }
}

}  // namespace

std::string RenderText(const v1::QuarterlyReport& report) {
  std::map<std::string, std::string, std::less<>> names;
  for (const auto& c : report.collaboratives()) names[c.id()] = c.name();
  auto name_of = [&](const std::string& id) {
    auto it = names.find(id);
    return it == names.end() || it->second.empty() ? id : it->second;
  };

  // A section line is kept as text; a table line as a row, so that column
  // widths can follow the whole report.
  struct Line {
    std::optional<TextRow> row;
    bool header = false;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& type : report.types()) {
    std::string heading = StrCat(TypeName(type.type()), " measures");
    for (char& c : heading) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    lines.push_back({std::nullopt, false, ""});
    lines.push_back({std::nullopt, false, heading});
    for (const auto& topic : type.topics()) {
      lines.push_back({std::nullopt, false, ""});
      const v1::Topic& t = topic.topic();
      lines.push_back({std::nullopt, false,
                       t.name().empty() ? StrCat("Topic: ", t.id())
                                        : StrCat("Topic: ", t.name(), " (", t.id(), ")")});
      lines.push_back({std::nullopt, true, ""});
      for (const auto& mr : topic.measures()) {
        const v1::Measure& m = mr.measure();
        lines.push_back({RowOf(m.name().empty() ? m.id() : m.name(), m, mr.national()), false, ""});
        if (mr.has_spc()) lines.push_back({std::nullopt, false, SpcLine(mr.spc())});
        for (const auto& item : mr.learning()) {
          lines.push_back({std::nullopt, false,
                           StrCat("  Learning: ", LearningTitle(item), " (", name_of(item.collaborative_id()),
                                  ", ", item.month(), ")")});
        }
        for (const auto& area : mr.collaboratives()) {
          lines.push_back(
              {RowOf(StrCat("  ", name_of(area.collaborative_id())), m, area.figure()), false, ""});
        }
      }
    }
  }

  static constexpr std::string_view kNameHeader = "Measure / area";
  static constexpr std::string_view kValueHeader = "Value";
  static constexpr std::string_view kNumdenHeader = "Numerator / denominator";
  static constexpr std::string_view kCoverageHeader = "Coverage";
  size_t name_w = Columns(kNameHeader), number_w = 0, suffix_w = 0;
  size_t numden_w = Columns(kNumdenHeader), coverage_w = Columns(kCoverageHeader);
  for (auto& line : lines) {
    if (!line.row) continue;
    line.row->name = Fit(line.row->name, kMaxNameColumns);
    name_w = std::max(name_w, Columns(line.row->name));
    number_w = std::max(number_w, Columns(line.row->number));
    suffix_w = std::max(suffix_w, Columns(line.row->suffix));
    numden_w = std::max(numden_w, Columns(line.row->numden));
    coverage_w = std::max(coverage_w, Columns(line.row->coverage));
  }
  if (number_w + suffix_w < Columns(kValueHeader)) {
    suffix_w = Columns(kValueHeader) - number_w;
  }

  std::string out = StrCat("National quarterly aggregate ", report.quarter(), " (",
                           MonthLabel(report.first_month()), " – ",
                           MonthLabel(report.last_month()), "), log position ",
                           report.as_of_position(), "\n");
  out += "Coverage: organisation-months reported / enrolled.\n";
  if (report.types().empty()) out += "\nNo measures in the catalogue.\n";
  for (const auto& line : lines) {
    std::string text;
    if (line.header) {
      text = StrCat(PadRight(std::string(kNameHeader), name_w), "  ",
                    PadRight(std::string(kValueHeader), number_w + suffix_w), "  ",
                    PadLeft(std::string(kNumdenHeader), numden_w), "  ",
                    PadLeft(std::string(kCoverageHeader), coverage_w));
    } else if (line.row) {
      const TextRow& r = *line.row;
      text = StrCat(PadRight(r.name, name_w), "  ", PadLeft(r.number, number_w),
                    PadRight(r.suffix, suffix_w), "  ", PadLeft(r.numden, numden_w), "  ",
                    PadLeft(r.coverage, coverage_w), "  ", r.bar);
    } else {
      text = line.text;
    }
    StrAppend(&out, RightTrimmed(std::move(text)), "\n");
  }
  if (report.learning_size() > 0) {
    out += "\nLEARNING\n";
    for (const auto& s : report.learning()) {
      std::string counts;
      auto count = [&](int n, std::string_view one, std::string_view many) {
        if (n == 0) return;
        StrAppend(&counts, counts.empty() ? "" : ", ", n, " ", n == 1 ? one : many);
      };
      count(s.case_studies(), "case study", "case studies");
      count(s.stories(), "story", "stories");
      count(s.innovative_practice(), "innovative practice", "innovative practices");
      count(s.what_did_not_work(), "what did not work", "what did not work");
      StrAppend(&out, "\n", name_of(s.collaborative_id()), " / ", s.topic_id(), ": ", counts, "\n");
      for (const auto& item : s.items()) StrAppend(&out, "  - ", LearningTitle(item), " (", item.month(), ")\n");
    }
  }
  AppendReturnsText(report, out);
  AppendRevisionsText(report, name_of, out);
  return out;
}

// ---------------------------------------------------------------- JSON

namespace {

// Writes JSON with two-space indentation, one member or element per line;
// empty objects and arrays as {} and [].
class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key) {
    NextItem();
    Quote(key);
    out_ += ": ";
    after_key_ = true;
  }
  void String(std::string_view s) {
    NextItem();
    Quote(s);
  }
  // An already formatted JSON number, or null when absent.
  void Number(const std::optional<std::string>& n) {
    NextItem();
    out_ += n ? *n : "null";
  }
  void Int(int64_t v) { Number(Integer(v, false)); }
  void UInt(uint64_t v) { Number(StrCat(v)); }
  void Bool(bool b) {
    NextItem();
    out_ += b ? "true" : "false";
  }
  std::string Finish() { return std::move(out_) + "\n"; }

 private:
  void NextItem() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (stack_.empty()) return;
    if (stack_.back()++ > 0) out_ += ',';
    Newline();
  }
  void Open(char c) {
    NextItem();
    out_ += c;
    stack_.push_back(0);
  }
  void Close(char c) {
    const int items = stack_.back();
    stack_.pop_back();
    if (items > 0) Newline();
    out_ += c;
  }
  void Newline() {
    out_ += '\n';
    out_.append(stack_.size() * 2, ' ');
  }
  void Quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += kHex[c >> 4];
            out_ += kHex[c & 0xf];
          } else {
            out_ += ch;  // UTF-8 passes through
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<int> stack_;  // items written so far at each open level
  bool after_key_ = false;
};

void WriteMeasure(JsonWriter& w, const v1::Measure& m) {
  w.BeginObject();
  w.Key("id");
  w.String(m.id());
  w.Key("name");
  w.String(m.name());
  w.Key("topic_id");
  w.String(m.topic_id());
  w.Key("type");
  w.String(TypeName(m.type()));
  w.Key("unit");
  w.String(UnitName(m.unit()));
  w.Key("rate_per");
  w.Int(m.rate_per());
  w.Key("aggregation");
  w.String(AggregationName(m.aggregation()));
  w.Key("improvement");
  w.String(DirectionName(m.improvement()));
  w.Key("numerator_label");
  w.String(m.numerator_label());
  w.Key("denominator_label");
  w.String(m.denominator_label());
  w.Key("target");
  w.Number(m.has_target() ? ShortestDouble(m.target()) : std::nullopt);
  w.Key("on_time_days");
  w.Int(m.on_time_days());
  w.EndObject();
}

void WriteFigure(JsonWriter& w, const v1::Measure& m, const v1::Figure& f) {
  w.BeginObject();
  w.Key("numerator");
  w.Int(f.numerator());
  w.Key("denominator");
  w.Int(f.denominator());
  w.Key("value");
  w.Number(MachineValue(m, f));
  w.Key("coverage");
  w.BeginObject();
  w.Key("reported");
  w.Int(f.coverage().reported());
  w.Key("expected");
  w.Int(f.coverage().expected());
  w.Key("on_time");
  w.Int(f.coverage().on_time());
  w.EndObject();
  w.EndObject();
}

// A computed statistic (SPC mean or limit, funnel centre or limit): exactly
// 4 decimal places, null when not finite.
void WriteStatistic(JsonWriter& w, double v) { w.Number(FixedDouble(v, 4)); }

void WriteStrings(JsonWriter& w, const google::protobuf::RepeatedPtrField<std::string>& list) {
  w.BeginArray();
  for (const auto& s : list) w.String(s);
  w.EndArray();
}

void WriteSpcSummary(JsonWriter& w, const v1::SpcSummary& s) {
  w.BeginObject();
  w.Key("points");
  w.Int(s.points());
  w.Key("variation");
  w.String(s.variation());
  w.Key("assurance");
  w.String(s.assurance());
  w.Key("mean");
  WriteStatistic(w, s.mean());
  w.Key("lower_process_limit");
  WriteStatistic(w, s.lower_process_limit());
  w.Key("upper_process_limit");
  WriteStatistic(w, s.upper_process_limit());
  w.Key("trial_limits");
  w.Bool(s.trial_limits());
  w.Key("per_organisation");
  w.Bool(s.per_organisation());
  w.EndObject();
}

void WriteSpcPoint(JsonWriter& w, const v1::SpcPoint& p) {
  w.BeginObject();
  w.Key("month");
  w.String(p.month());
  w.Key("value");
  WriteStatistic(w, p.value());
  w.Key("mean");
  WriteStatistic(w, p.mean());
  w.Key("lower_process_limit");
  WriteStatistic(w, p.lower_process_limit());
  w.Key("upper_process_limit");
  WriteStatistic(w, p.upper_process_limit());
  w.Key("lower_near_limit");
  WriteStatistic(w, p.lower_near_limit());
  w.Key("upper_near_limit");
  WriteStatistic(w, p.upper_near_limit());
  w.Key("special_cause");
  w.String(p.special_cause());
  w.Key("classification");
  w.String(p.classification());
  w.Key("segment");
  w.Int(p.segment());
  w.EndObject();
}

void WriteSpcSegment(JsonWriter& w, const v1::SpcSegment& s) {
  w.BeginObject();
  w.Key("first_month");
  w.String(s.first_month());
  w.Key("last_month");
  w.String(s.last_month());
  w.Key("points");
  w.Int(s.points());
  w.Key("base_points");
  w.Int(s.base_points());
  w.Key("trial_limits");
  w.Bool(s.trial_limits());
  w.Key("mean");
  WriteStatistic(w, s.mean());
  w.Key("lower_process_limit");
  WriteStatistic(w, s.lower_process_limit());
  w.Key("upper_process_limit");
  WriteStatistic(w, s.upper_process_limit());
  w.Key("rebase_reason");
  w.String(s.rebase_reason());
  w.Key("rebase_author");
  w.String(s.rebase_author());
  w.Key("fixed_after_points");
  w.Int(s.fixed_after_points());
  w.EndObject();
}

void WriteLearningItem(JsonWriter& w, const v1::LearningItem& item) {
  w.BeginObject();
  w.Key("learning_id");
  w.String(item.learning_id());
  w.Key("kind");
  w.String(LearningKindName(item.kind()));
  w.Key("month");
  w.String(item.month());
  w.Key("title");
  w.String(item.title());
  w.Key("text_erased");
  w.Bool(item.text_erased());
  w.Key("measure_ids");
  WriteStrings(w, item.measure_ids());
  w.Key("collaborative_id");
  w.String(item.collaborative_id());
  w.EndObject();
}

void WriteLearningItems(JsonWriter& w,
                        const google::protobuf::RepeatedPtrField<v1::LearningItem>& items) {
  w.BeginArray();
  for (const auto& item : items) WriteLearningItem(w, item);
  w.EndArray();
}

void WriteFunnel(JsonWriter& w, const v1::Funnel& f) {
  w.BeginObject();
  w.Key("model");
  w.String(f.model());
  w.Key("centre");
  WriteStatistic(w, f.centre());
  w.Key("display_factor");
  w.Number(ShortestDouble(f.display_factor()));
  w.Key("units");
  w.BeginArray();
  for (const auto& u : f.units()) {
    w.BeginObject();
    w.Key("id");
    w.String(u.id());
    w.Key("numerator");
    w.Int(u.numerator());
    w.Key("denominator");
    w.Int(u.denominator());
    w.Key("value");
    WriteStatistic(w, u.value());
    w.Key("lower_95");
    WriteStatistic(w, u.lower_95());
    w.Key("upper_95");
    WriteStatistic(w, u.upper_95());
    w.Key("lower_998");
    WriteStatistic(w, u.lower_998());
    w.Key("upper_998");
    WriteStatistic(w, u.upper_998());
    w.Key("position_95");
    w.String(u.position_95());
    w.Key("position_998");
    w.String(u.position_998());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

// A revised figure's field: a value to 4 places; numerators, denominators
// and coverage counts (whole numbers) as integers.
std::optional<std::string> RevisionNumber(const v1::Revision& r, bool has, double v) {
  if (!has) return std::nullopt;
  if (r.field() != "value" && std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.0e15) {
    return Integer(static_cast<int64_t>(v), false);
  }
  return FixedDouble(v, 4);
}

void WriteRevisions(JsonWriter& w, const google::protobuf::RepeatedPtrField<v1::Revision>& list) {
  w.BeginArray();
  for (const auto& r : list) {
    w.BeginObject();
    w.Key("measure_id");
    w.String(r.measure_id());
    w.Key("area");
    w.String(r.area());
    w.Key("field");
    w.String(r.field());
    w.Key("published");
    w.Number(RevisionNumber(r, r.has_published(), r.published()));
    w.Key("current");
    w.Number(RevisionNumber(r, r.has_current(), r.current()));
    w.EndObject();
  }
  w.EndArray();
}

void WriteSignOff(JsonWriter& w, const v1::SignOff& s) {
  w.BeginObject();
  w.Key("collaborative_id");
  w.String(s.collaborative_id());
  w.Key("sign_off_id");
  w.String(s.sign_off_id());
  w.Key("position");
  w.UInt(s.position());
  w.Key("as_of_position");
  w.UInt(s.as_of_position());
  w.Key("signed_off_at");
  if (s.has_signed_off_at()) {
    w.String(Rfc3339Utc(s.signed_off_at()));
  } else {
    w.Number(std::nullopt);
  }
  w.Key("principal");
  w.String(s.principal());
  w.Key("revisions");
  WriteRevisions(w, s.revisions());
  w.EndObject();
}

void WriteOutstanding(JsonWriter& w, const v1::OutstandingReturns& o) {
  w.BeginObject();
  w.Key("month");
  w.String(o.month());
  w.Key("collaboratives");
  w.BeginArray();
  for (const auto& c : o.collaboratives()) {
    w.BeginObject();
    w.Key("collaborative_id");
    w.String(c.collaborative_id());
    w.Key("expected");
    w.Int(c.expected());
    w.Key("reported");
    w.Int(c.reported());
    w.Key("on_time");
    w.Int(c.on_time());
    w.Key("outstanding");
    w.BeginArray();
    for (const auto& org : c.outstanding()) {
      w.BeginObject();
      w.Key("ods_code");
      w.String(org.ods_code());
      w.Key("name");
      w.String(org.name());
      w.Key("measure_ids");
      WriteStrings(w, org.measure_ids());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("as_of_position");
  w.UInt(o.as_of_position());
  w.EndObject();
}

void WriteLearningSummary(JsonWriter& w, const v1::LearningSummary& s) {
  w.BeginObject();
  w.Key("collaborative_id");
  w.String(s.collaborative_id());
  w.Key("topic_id");
  w.String(s.topic_id());
  w.Key("case_studies");
  w.Int(s.case_studies());
  w.Key("stories");
  w.Int(s.stories());
  w.Key("innovative_practice");
  w.Int(s.innovative_practice());
  w.Key("what_did_not_work");
  w.Int(s.what_did_not_work());
  w.Key("items");
  WriteLearningItems(w, s.items());
  w.EndObject();
}

}  // namespace

std::string RenderJson(const v1::QuarterlyReport& report) {
  JsonWriter w;
  w.BeginObject();
  w.Key("quarter");
  w.String(report.quarter());
  w.Key("first_month");
  w.String(report.first_month());
  w.Key("last_month");
  w.String(report.last_month());
  w.Key("as_of_position");
  w.UInt(report.as_of_position());
  w.Key("types");
  w.BeginArray();
  for (const auto& type : report.types()) {
    w.BeginObject();
    w.Key("type");
    w.String(TypeName(type.type()));
    w.Key("topics");
    w.BeginArray();
    for (const auto& topic : type.topics()) {
      w.BeginObject();
      w.Key("topic");
      w.BeginObject();
      w.Key("id");
      w.String(topic.topic().id());
      w.Key("name");
      w.String(topic.topic().name());
      w.Key("essential");
      w.Bool(topic.topic().essential());
      w.EndObject();
      w.Key("measures");
      w.BeginArray();
      for (const auto& mr : topic.measures()) {
        w.BeginObject();
        w.Key("measure");
        WriteMeasure(w, mr.measure());
        w.Key("national");
        WriteFigure(w, mr.measure(), mr.national());
        w.Key("collaboratives");
        w.BeginArray();
        for (const auto& area : mr.collaboratives()) {
          w.BeginObject();
          w.Key("collaborative_id");
          w.String(area.collaborative_id());
          w.Key("figure");
          WriteFigure(w, mr.measure(), area.figure());
          w.EndObject();
        }
        w.EndArray();
        w.Key("spc");
        if (mr.has_spc()) {
          WriteSpcSummary(w, mr.spc());
        } else {
          w.Number(std::nullopt);
        }
        w.Key("learning");
        WriteLearningItems(w, mr.learning());
        w.Key("spc_points");
        w.BeginArray();
        for (const auto& p : mr.spc_points()) WriteSpcPoint(w, p);
        w.EndArray();
        w.Key("spc_segments");
        w.BeginArray();
        for (const auto& seg : mr.spc_segments()) WriteSpcSegment(w, seg);
        w.EndArray();
        w.Key("chart_learning");
        WriteLearningItems(w, mr.chart_learning());
        w.Key("funnel");
        if (mr.has_funnel()) {
          WriteFunnel(w, mr.funnel());
        } else {
          w.Number(std::nullopt);
        }
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("collaboratives");
  w.BeginArray();
  for (const auto& c : report.collaboratives()) {
    w.BeginObject();
    w.Key("id");
    w.String(c.id());
    w.Key("name");
    w.String(c.name());
    w.EndObject();
  }
  w.EndArray();
  w.Key("learning");
  w.BeginArray();
  for (const auto& s : report.learning()) WriteLearningSummary(w, s);
  w.EndArray();
  w.Key("sign_offs");
  w.BeginArray();
  for (const auto& s : report.sign_offs()) WriteSignOff(w, s);
  w.EndArray();
  w.Key("outstanding");
  w.BeginArray();
  for (const auto& o : report.outstanding()) WriteOutstanding(w, o);
  w.EndArray();
  w.Key("publication");
  if (report.has_publication()) {
    const v1::PublicationNote& p = report.publication();
    w.BeginObject();
    w.Key("publication_id");
    w.String(p.publication_id());
    w.Key("position");
    w.UInt(p.position());
    w.Key("as_of_position");
    w.UInt(p.as_of_position());
    w.Key("revisions");
    WriteRevisions(w, p.revisions());
    w.EndObject();
  } else {
    w.Number(std::nullopt);
  }
  w.EndObject();
  return w.Finish();
}

// ---------------------------------------------------------------- CSV

std::string RenderCsv(const v1::QuarterlyReport& report) {
  std::string out;
  AppendCsvLine(&out, {"quarter", "type", "topic_id", "measure_id", "measure_name", "area",
                       "area_id", "numerator", "denominator", "value", "unit", "reported",
                       "expected", "variation", "assurance"});
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& mr : topic.measures()) {
        const v1::Measure& m = mr.measure();
        auto line = [&](std::string_view area, const std::string& area_id, const v1::Figure& f,
                        const v1::SpcSummary* spc) {
          AppendCsvLine(
              &out,
              {report.quarter(), std::string(TypeName(type.type())), topic.topic().id(), m.id(),
               m.name(), std::string(area), area_id, Integer(f.numerator(), false),
               IsRatio(m) ? Integer(f.denominator(), false) : std::string(),
               MachineValue(m, f).value_or(""), UnitLabel(m),
               Integer(f.coverage().reported(), false), Integer(f.coverage().expected(), false),
               spc ? spc->variation() : std::string(), spc ? spc->assurance() : std::string()});
        };
        line("national", "", mr.national(), mr.has_spc() ? &mr.spc() : nullptr);
        for (const auto& area : mr.collaboratives()) {
          line("collaborative", area.collaborative_id(), area.figure(), nullptr);
        }
      }
    }
  }
  return out;
}

Rendered Render(const v1::QuarterlyReport& report, v1::ReportFormat format) {
  switch (format) {
    case v1::REPORT_FORMAT_TEXT:
      return {RenderText(report), "text/plain; charset=utf-8"};
    case v1::REPORT_FORMAT_JSON:
      return {RenderJson(report), "application/json"};
    case v1::REPORT_FORMAT_CSV:
      return {RenderCsv(report), "text/csv; charset=utf-8"};
    case v1::REPORT_FORMAT_HTML:
      return {RenderHtml(report), "text/html; charset=utf-8"};
    default:
      return {};
  }
}

}  // namespace psc::report
