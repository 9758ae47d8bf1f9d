#include "psc/report/publication.h"

#include <map>
#include <optional>

#include "psc/disclosure/disclosure.h"
#include "psc/domain/sha256.h"
#include "psc/report/render.h"

namespace psc::report {

namespace {

// The report without learning text: a publication is frozen on the log for
// good, and learning text must stay erasable. Items keep their id, kind,
// month and links, so counts and markers are unchanged.
v1::QuarterlyReport WithoutLearningText(v1::QuarterlyReport report) {
  for (auto& type : *report.mutable_types()) {
    for (auto& topic : *type.mutable_topics()) {
      for (auto& measure : *topic.mutable_measures()) {
        for (auto& item : *measure.mutable_learning()) item.clear_title();
        for (auto& item : *measure.mutable_chart_learning()) item.clear_title();
      }
    }
  }
  for (auto& summary : *report.mutable_learning()) {
    for (auto& item : *summary.mutable_items()) item.clear_title();
  }
  return report;
}

}  // namespace

v1::QuarterPublished FreezeQuarter(const v1::QuarterlyReport& live,
                                   const std::string& publication_id, bool for_public) {
  const v1::QuarterlyReport report = WithoutLearningText(live);
  v1::QuarterPublished out;
  out.set_publication_id(publication_id);
  out.set_quarter(report.quarter());
  out.set_as_of_position(report.as_of_position());
  out.set_report(report.SerializeAsString());
  out.set_renderer_version(kRendererVersion);
  if (for_public) {
    const auto policy = disclosure::DisclosurePolicy::Public();
    std::string csv = disclosure::RenderPublicCsv(disclosure::Disclose(report, policy));
    v1::RenderedReport* r = out.add_renderings();
    r->set_sha256(Sha256Hex(csv));
    r->set_content_type("text/csv; charset=utf-8");
    r->set_bytes(std::move(csv));
    out.set_disclosure_policy(policy.name);
    return out;
  }
  for (v1::ReportFormat format :
       {v1::REPORT_FORMAT_TEXT, v1::REPORT_FORMAT_JSON, v1::REPORT_FORMAT_CSV,
        v1::REPORT_FORMAT_HTML}) {
    Rendered rendered = Render(report, format);
    v1::RenderedReport* r = out.add_renderings();
    r->set_sha256(Sha256Hex(rendered.bytes));
    r->set_content_type(std::move(rendered.content_type));
    r->set_bytes(std::move(rendered.bytes));
  }
  out.set_disclosure_policy(std::string(disclosure::DisclosurePolicy::Internal().name));
  return out;
}

namespace {

using FigureKey = std::pair<std::string, std::string>;  // (measure, area)

std::vector<std::pair<FigureKey, const v1::Figure*>> FiguresOf(const v1::QuarterlyReport& r) {
  std::vector<std::pair<FigureKey, const v1::Figure*>> out;
  for (const auto& type : r.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        out.push_back({{m.measure().id(), "national"}, &m.national()});
        for (const auto& a : m.collaboratives()) {
          out.push_back({{m.measure().id(), a.collaborative_id()}, &a.figure()});
        }
      }
    }
  }
  return out;
}

}  // namespace

void CompareFigures(const std::string& measure_id, const std::string& area,
                    const v1::Figure* before, const v1::Figure* after,
                    std::vector<v1::Revision>& out) {
  auto field = [&](const char* name, auto get) {
    std::optional<double> old_value = before ? get(*before) : std::nullopt;
    std::optional<double> new_value = after ? get(*after) : std::nullopt;
    if (old_value == new_value) return;
    v1::Revision r;
    r.set_measure_id(measure_id);
    r.set_area(area);
    r.set_field(name);
    if (old_value) r.set_published(*old_value);
    if (new_value) r.set_current(*new_value);
    out.push_back(std::move(r));
  };
  using F = const v1::Figure&;
  using O = std::optional<double>;
  field("numerator", [](F f) -> O { return static_cast<double>(f.numerator()); });
  field("denominator", [](F f) -> O { return static_cast<double>(f.denominator()); });
  field("value", [](F f) -> O { return f.has_value() ? O(f.value()) : std::nullopt; });
  field("reported", [](F f) -> O { return static_cast<double>(f.coverage().reported()); });
  field("expected", [](F f) -> O { return static_cast<double>(f.coverage().expected()); });
  field("on_time", [](F f) -> O { return static_cast<double>(f.coverage().on_time()); });
}

v1::QuarterSignedOff SignOffFigures(const v1::QuarterlyReport& report,
                                    const std::string& collaborative_id,
                                    const std::string& sign_off_id) {
  v1::QuarterSignedOff out;
  out.set_sign_off_id(sign_off_id);
  out.set_quarter(report.quarter());
  out.set_collaborative_id(collaborative_id);
  out.set_as_of_position(report.as_of_position());
  for (const auto& [key, figure] : FiguresOf(report)) {
    if (key.second != collaborative_id) continue;
    v1::SignedOffFigure* f = out.add_figures();
    f->set_measure_id(key.first);
    f->set_numerator(figure->numerator());
    f->set_denominator(figure->denominator());
    if (figure->has_value()) f->set_value(figure->value());
    f->set_reported(figure->coverage().reported());
    f->set_expected(figure->coverage().expected());
    f->set_on_time(figure->coverage().on_time());
  }
  return out;
}

v1::Figure FigureOf(const v1::SignedOffFigure& f) {
  v1::Figure out;
  out.set_numerator(f.numerator());
  out.set_denominator(f.denominator());
  if (f.has_value()) out.set_value(f.value());
  out.mutable_coverage()->set_reported(f.reported());
  out.mutable_coverage()->set_expected(f.expected());
  out.mutable_coverage()->set_on_time(f.on_time());
  return out;
}

std::vector<v1::Revision> Revisions(const v1::QuarterlyReport& published,
                                    const v1::QuarterlyReport& current) {
  auto before = FiguresOf(published);
  auto after = FiguresOf(current);
  std::map<FigureKey, const v1::Figure*> after_by_key(after.begin(), after.end());
  std::map<FigureKey, const v1::Figure*> before_by_key(before.begin(), before.end());
  std::vector<v1::Revision> out;
  for (const auto& [key, figure] : before) {
    auto it = after_by_key.find(key);
    CompareFigures(key.first, key.second, figure, it == after_by_key.end() ? nullptr : it->second, out);
  }
  for (const auto& [key, figure] : after) {
    if (before_by_key.count(key) == 0) CompareFigures(key.first, key.second, nullptr, figure, out);
  }
  return out;
}

}  // namespace psc::report
