// Disclosure control for public outputs of the quarterly report: NHS
// Digital's small-number rule from the HES analysis guide, as the programme
// adopts it. Pure: no I/O, no clock; the same report and policy always give
// the same result and the same bytes.
//
// The rule (DisclosurePolicy's defaults):
//   - National figures are published exactly as aggregated: no
//     suppression, no rounding.
//   - Below national (each collaborative), every count is a cell: the
//     numerator of every measure and the denominator of proportions and
//     rates. A count of 0 is published as 0. A count of 1..7
//     (1..suppress_below-1) is suppressed (`*`): "primary" suppression. Any
//     other count is rounded to the nearest multiple of 5 (round_to), half
//     up: 8 -> 10, 12 -> 10, 13 -> 15. A non-zero count is never rounded
//     down to 0 (only possible with a custom policy), so a published 0
//     always means a true 0.
//   - A collaborative's value (percentage or rate) is computed from its
//     published, rounded numerator and denominator: 13 / 1,002 per 1,000 is
//     published as 15 / 1,000 = 15.0000. If either is suppressed the value
//     is suppressed too. A count's value is its published numerator.
//   - Secondary suppression. Within one measure the collaboratives
//     partition the national total (national = sum of collaboratives), and
//     the national total is published exactly. If exactly one
//     collaborative's numerator is suppressed, it could be recovered as the
//     national numerator minus the others; so the smallest other non-zero,
//     not yet suppressed numerator is suppressed as well ("secondary"),
//     smallest by its true count, ties to the lower collaborative id (byte
//     order). The same, independently, for denominators. With two or more
//     cells already suppressed nothing more is suppressed: the national
//     total then gives only their sum.
//     Rounding to 5 already blurs the subtraction (each published count
//     may be up to 2 off its true value, so national minus the others lands
//     within 2 x (collaboratives - 1) of the suppressed count rather than
//     on it); the secondary rule is applied anyway, as the HES guidance
//     asks.
//   - Zero cells. 0 is published as 0 and is never picked for secondary
//     suppression: hiding a true 0 protects nothing that the national total
//     does not already bound, and the rule publishes zeros. So if the other
//     unsuppressed cells of a measure include zeros, the smallest non-zero
//     one is picked, however small the zeros are.
//     If there is no such cell (every other collaborative is 0, or the
//     measure has one collaborative only), the suppressed count equals the
//     national total minus zeros and cannot be protected while national
//     figures are published exactly: it stays suppressed (`*`), nothing else
//     is suppressed, and PublicMeasure::numerator_recoverable (or
//     denominator_recoverable) says so, for the publisher to act on.
//   - Coverage (organisation-months reported and expected) is never
//     suppressed or rounded: it counts organisations' returns, not
//     patients or events.
//
// A disabled policy (internal outputs) publishes every figure unchanged and
// names itself `unsuppressed` whatever its `name`, so no output claims a rule
// that was not applied.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "psc/v1/query.pb.h"

namespace psc::disclosure {

// Which disclosure rule to apply. The defaults are the programme's rule for
// public outputs.
struct DisclosurePolicy {
  // False for internal outputs: figures are published unchanged.
  bool enabled = true;
  // Counts from 1 to suppress_below - 1 are suppressed; 8 suppresses 1..7.
  // 1 or less suppresses nothing.
  int64_t suppress_below = 8;
  // Other non-zero counts are rounded to a multiple of this, half up; 1 or
  // less leaves them exact.
  int64_t round_to = 5;
  // Whether to suppress a second cell when exactly one is suppressed.
  bool secondary = true;
  // Named in every output the policy produced.
  std::string name = "HES small-number rule";

  // The programme's rule for public outputs (the defaults).
  static DisclosurePolicy Public() { return {}; }
  // Internal outputs: nothing suppressed or rounded.
  static DisclosurePolicy Internal() {
    DisclosurePolicy p;
    p.enabled = false;
    p.name = "unsuppressed";
    return p;
  }
};

// What was done to a published figure, strongest first when several apply
// to its numerator and denominator: primary > secondary > rounded > none.
enum class Protection {
  // Published exactly (national figures, zero cells, a disabled policy).
  kNone,
  // Its non-zero counts were rounded (whether or not rounding changed
  // them: marking only the changed ones would tell which are exact).
  kRounded,
  // A count of it is small and suppressed.
  kPrimary,
  // A count of it is suppressed to protect another collaborative's.
  kSecondary,
};

// `none`, `rounded`, `primary`, `secondary`.
std::string_view ProtectionName(Protection p);

// One figure as published. A suppressed count or value is nullopt with its
// flag set; a value is also nullopt, unflagged, when the report had none
// (nothing reported, or a denominator of 0).
struct PublicFigure {
  std::optional<int64_t> numerator;
  // 0 for counts, which have no denominator; never suppressed then.
  std::optional<int64_t> denominator;
  // Display units (count, per cent, rate per N), from the published counts.
  std::optional<double> value;
  bool numerator_suppressed = false;
  bool denominator_suppressed = false;
  bool value_suppressed = false;
  // Its non-zero counts are rounded to a multiple of round_to.
  bool rounded = false;
  Protection protection = Protection::kNone;
  // As in the report: organisation-months are not disclosure-controlled.
  v1::Coverage coverage;

  bool operator==(const PublicFigure& o) const;
};

// One measure as published: the national figure and each collaborative's,
// in the report's order (by collaborative id).
struct PublicMeasure {
  std::string id;
  // What the value is: the unit and the factor from numerator / denominator
  // to display units (1 for counts, 100 for proportions, N for rates per N).
  v1::Unit unit = v1::UNIT_UNSPECIFIED;
  int64_t factor = 1;
  PublicFigure national;
  // Collaborative id and its figure.
  std::vector<std::pair<std::string, PublicFigure>> collaboratives;
  // A suppressed numerator (denominator) can still be derived exactly from
  // the national total, because no other collaborative has a non-zero count
  // to suppress with it. See the header comment.
  bool numerator_recoverable = false;
  bool denominator_recoverable = false;
};

// A report as published: which policy applied, and every measure in the
// report's order (type, topic, measure id).
struct PublicReport {
  // The policy's name, or `unsuppressed` when the policy is disabled.
  std::string policy_name;
  // Whether disclosure control was applied.
  bool applied = false;
  std::vector<PublicMeasure> measures;
};

// How one collaborative-level count is published on its own (before
// secondary suppression): nullopt when suppressed, else 0 for 0 and the
// count rounded half up to a multiple of round_to (never to 0) otherwise.
// A disabled policy returns the count unchanged. Counts are non-negative
// (validation refuses negatives); a negative one is treated by its magnitude
// and keeps its sign.
std::optional<int64_t> PublishCount(int64_t count, const DisclosurePolicy& policy);

// Applies `policy` to every figure of `report`; see the header comment.
PublicReport Disclose(const v1::QuarterlyReport& report, const DisclosurePolicy& policy);

// CSV (RFC 4180, CRLF line ends), one row per measure and area, national
// first, then collaboratives in order:
//   measure_id,area,area_id,numerator,denominator,value,suppression,policy
// `area` is `national` or `collaborative`; `area_id` the collaborative id
// (empty for national). A suppressed number is `*`. The denominator is empty
// for counts. The value is empty when the figure has none; it is written
// from the published integers, never from a double: a count as the integer,
// a percentage or rate with exactly 4 decimal places, rounded half up from
// the exact quotient (15 / 1,000 per 1,000 -> 15.0000). `suppression` is the
// figure's ProtectionName. `policy` repeats PublicReport::policy_name on
// every row, so each row says which rule produced it, and the file stays
// plain CSV with one header line.
std::string RenderPublicCsv(const PublicReport& report);

}  // namespace psc::disclosure
