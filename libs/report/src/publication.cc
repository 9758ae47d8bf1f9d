#include "psc/report/publication.h"

#include <map>
#include <optional>

#include "psc/disclosure/disclosure.h"
#include "psc/domain/sha256.h"
#include "psc/report/render.h"

namespace psc::report {

v1::QuarterPublished FreezeQuarter(const v1::QuarterlyReport& report,
                                   const std::string& publication_id, bool for_public) {
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
       {v1::REPORT_FORMAT_TEXT, v1::REPORT_FORMAT_JSON, v1::REPORT_FORMAT_CSV}) {
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

void Compare(const FigureKey& key, const v1::Figure* before, const v1::Figure* after,
             std::vector<v1::Revision>& out) {
  auto field = [&](const char* name, auto get) {
    std::optional<double> old_value = before ? get(*before) : std::nullopt;
    std::optional<double> new_value = after ? get(*after) : std::nullopt;
    if (old_value == new_value) return;
    v1::Revision r;
    r.set_measure_id(key.first);
    r.set_area(key.second);
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

}  // namespace

std::vector<v1::Revision> Revisions(const v1::QuarterlyReport& published,
                                    const v1::QuarterlyReport& current) {
  auto before = FiguresOf(published);
  auto after = FiguresOf(current);
  std::map<FigureKey, const v1::Figure*> after_by_key(after.begin(), after.end());
  std::map<FigureKey, const v1::Figure*> before_by_key(before.begin(), before.end());
  std::vector<v1::Revision> out;
  for (const auto& [key, figure] : before) {
    auto it = after_by_key.find(key);
    Compare(key, figure, it == after_by_key.end() ? nullptr : it->second, out);
  }
  for (const auto& [key, figure] : after) {
    if (before_by_key.count(key) == 0) Compare(key, nullptr, figure, out);
  }
  return out;
}

}  // namespace psc::report
