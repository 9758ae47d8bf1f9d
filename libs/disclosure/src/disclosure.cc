#include "psc/disclosure/disclosure.h"

#include <algorithm>
#include <limits>

#include "psc/domain/aggregation.h"
#include "psc/domain/number_format.h"
#include "psc/domain/strings.h"

namespace psc::disclosure {
namespace {


constexpr std::string_view kUnsuppressed = "unsuppressed";

bool IsRatio(v1::Unit unit) { return unit == v1::UNIT_PROPORTION || unit == v1::UNIT_RATE; }

int64_t Factor(const v1::Measure& m) {
  switch (m.unit()) {
    case v1::UNIT_PROPORTION:
      return 100;
    case v1::UNIT_RATE:
      return m.rate_per();
    default:
      return 1;
  }
}

// |v| without overflow for INT64_MIN.
uint64_t Magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

// A non-negative count rounded half up to a multiple of `step` (> 1), never
// to 0, and never past the largest multiple an int64 holds.
uint64_t RoundHalfUp(uint64_t v, uint64_t step) {
  uint64_t q = v / step;
  const uint64_t rest = v % step;
  if (rest * 2 >= step && q < static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / step) {
    ++q;
  }
  if (q == 0) q = 1;  // a published 0 must mean a true 0
  return q * step;
}

bool IsPrimary(int64_t count, const DisclosurePolicy& policy) {
  const uint64_t m = Magnitude(count);
  return policy.enabled && m >= 1 && policy.suppress_below > 1 &&
         m < static_cast<uint64_t>(policy.suppress_below);
}

PublicFigure Unchanged(const v1::Figure& f) {
  PublicFigure p;
  p.numerator = f.numerator();
  p.denominator = f.denominator();
  if (f.has_value()) p.value = f.value();
  p.coverage = f.coverage();
  return p;
}

// One count of every collaborative of a measure: the numerators, or the
// denominators.
struct Cell {
  int64_t count = 0;
  const std::string* id = nullptr;
  bool primary = false;
  bool secondary = false;
};

// Marks the secondary cell when exactly one cell is primary; returns true
// when that one cell cannot be protected (no non-zero cell to pick).
bool MarkSecondary(std::vector<Cell>& cells) {
  if (std::count_if(cells.begin(), cells.end(), [](const Cell& c) { return c.primary; }) != 1) {
    return false;
  }
  Cell* pick = nullptr;
  for (Cell& c : cells) {
    if (c.primary || c.count == 0) continue;
    if (pick == nullptr || Magnitude(c.count) < Magnitude(pick->count) ||
        (Magnitude(c.count) == Magnitude(pick->count) && *c.id < *pick->id)) {
      pick = &c;
    }
  }
  if (pick == nullptr) return true;
  pick->secondary = true;
  return false;
}

// Sets a collaborative's published count from its cell.
void Publish(const Cell& cell, const DisclosurePolicy& policy, std::optional<int64_t>* out,
             bool* suppressed, bool* rounded) {
  if (cell.primary || cell.secondary) {
    *out = std::nullopt;
    *suppressed = true;
    return;
  }
  *out = PublishCount(cell.count, policy);
  if (cell.count != 0 && policy.round_to > 1) *rounded = true;
}

PublicMeasure DiscloseMeasure(const v1::MeasureReport& mr, const DisclosurePolicy& policy) {
  const v1::Measure& m = mr.measure();
  PublicMeasure out;
  out.id = m.id();
  out.unit = m.unit();
  out.factor = Factor(m);
  out.national = Unchanged(mr.national());
  if (!policy.enabled) {
    for (const auto& area : mr.collaboratives()) {
      out.collaboratives.emplace_back(area.collaborative_id(), Unchanged(area.figure()));
    }
    return out;
  }

  const bool ratio = IsRatio(m.unit());
  std::vector<Cell> numerators;
  std::vector<Cell> denominators;
  for (const auto& area : mr.collaboratives()) {
    const v1::Figure& f = area.figure();
    numerators.push_back({f.numerator(), &area.collaborative_id(),
                          IsPrimary(f.numerator(), policy), false});
    // A count's denominator is not a count of anything: published as is.
    denominators.push_back({f.denominator(), &area.collaborative_id(),
                            ratio && IsPrimary(f.denominator(), policy), false});
  }
  if (policy.secondary) {
    out.numerator_recoverable = MarkSecondary(numerators);
    if (ratio) out.denominator_recoverable = MarkSecondary(denominators);
  }

  for (int i = 0; i < mr.collaboratives_size(); ++i) {
    const v1::Figure& f = mr.collaboratives(i).figure();
    const Cell& num = numerators[static_cast<size_t>(i)];
    const Cell& den = denominators[static_cast<size_t>(i)];
    PublicFigure p;
    p.coverage = f.coverage();
    Publish(num, policy, &p.numerator, &p.numerator_suppressed, &p.rounded);
    if (ratio) {
      Publish(den, policy, &p.denominator, &p.denominator_suppressed, &p.rounded);
    } else {
      p.denominator = f.denominator();
    }
    // A value only where the report has one: none stays none.
    if (f.has_value()) {
      if (p.numerator_suppressed || p.denominator_suppressed) {
        p.value_suppressed = true;
      } else {
        p.value = DisplayValue(m, *p.numerator, *p.denominator, true);
      }
    }
    if (num.primary || den.primary) {
      p.protection = Protection::kPrimary;
    } else if (num.secondary || den.secondary) {
      p.protection = Protection::kSecondary;
    } else if (p.rounded) {
      p.protection = Protection::kRounded;
    }
    out.collaboratives.emplace_back(mr.collaboratives(i).collaborative_id(), std::move(p));
  }
  return out;
}

// ---------------------------------------------------------------- CSV

std::string CountField(const std::optional<int64_t>& v) {
  return v ? StrCat(*v) : std::string("*");
}

std::string ValueField(const PublicMeasure& m, const PublicFigure& f) {
  if (f.value_suppressed) return "*";
  if (!f.value || !f.numerator) return "";
  if (!IsRatio(m.unit)) return StrCat(*f.numerator);
  // Written from the published integers; a ratio without a positive
  // denominator has no value (the report builder never gives it one).
  if (!f.denominator || *f.denominator == 0) return "";
  return Quotient(*f.numerator, m.factor, *f.denominator, 4, /*group=*/false);
}

}  // namespace

std::string_view ProtectionName(Protection p) {
  switch (p) {
    case Protection::kRounded:
      return "rounded";
    case Protection::kPrimary:
      return "primary";
    case Protection::kSecondary:
      return "secondary";
    case Protection::kNone:
      break;
  }
  return "none";
}

bool PublicFigure::operator==(const PublicFigure& o) const {
  return numerator == o.numerator && denominator == o.denominator && value == o.value &&
         numerator_suppressed == o.numerator_suppressed &&
         denominator_suppressed == o.denominator_suppressed &&
         value_suppressed == o.value_suppressed && rounded == o.rounded &&
         protection == o.protection &&
         // Every field of Coverage, present and future: its serialisation is
         // canonical (scalars only, written in field-number order).
         coverage.SerializeAsString() == o.coverage.SerializeAsString();
}

std::optional<int64_t> PublishCount(int64_t count, const DisclosurePolicy& policy) {
  if (!policy.enabled || count == 0) return count;
  if (IsPrimary(count, policy)) return std::nullopt;
  if (policy.round_to <= 1) return count;
  const uint64_t rounded = RoundHalfUp(Magnitude(count), static_cast<uint64_t>(policy.round_to));
  return count < 0 ? -static_cast<int64_t>(rounded) : static_cast<int64_t>(rounded);
}

PublicReport Disclose(const v1::QuarterlyReport& report, const DisclosurePolicy& policy) {
  PublicReport out;
  out.applied = policy.enabled;
  out.policy_name = policy.enabled ? policy.name : std::string(kUnsuppressed);
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& mr : topic.measures()) {
        out.measures.push_back(DiscloseMeasure(mr, policy));
      }
    }
  }
  return out;
}

std::string RenderPublicCsv(const PublicReport& report) {
  std::string out;
  AppendCsvLine(&out, {"measure_id", "area", "area_id", "numerator", "denominator", "value",
                 "suppression", "policy"});
  for (const PublicMeasure& m : report.measures) {
    auto line = [&](std::string_view area, const std::string& area_id, const PublicFigure& f) {
      AppendCsvLine(&out, {m.id, std::string(area), area_id, CountField(f.numerator),
                     IsRatio(m.unit) ? CountField(f.denominator) : std::string(),
                     ValueField(m, f), std::string(ProtectionName(f.protection)),
                     report.policy_name});
    };
    line("national", "", m.national);
    for (const auto& [id, figure] : m.collaboratives) line("collaborative", id, figure);
  }
  return out;
}

}  // namespace psc::disclosure
