#include "psc/domain/validation.h"

#include <set>
#include <type_traits>
#include <unordered_map>

#include "psc/domain/strings.h"
#include "psc/domain/ids.h"
#include "psc/domain/nhs_number.h"
#include "psc/domain/sha256.h"
#include "psc/domain/violations.h"

namespace psc {
namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxText = 4000;
constexpr size_t kMaxReason = 500;

std::string Row(int i, std::string_view field) { return StrCat("rows[", i, "].", field); }

// A field's name, built only when a violation needs it: either the name
// itself or a function returning it (rows[i].x names cost an allocation
// per row otherwise).
std::string NameOf(std::string name) { return name; }
template <class F>
  requires std::is_invocable_r_v<std::string, F>
std::string NameOf(F&& name) {
  return name();
}

// An observation key by views into the rows validated, for the duplicate
// check.
struct KeyView {
  std::string_view ods, measure, month;
  bool operator==(const KeyView&) const = default;
};
struct KeyViewHash {
  size_t operator()(const KeyView& k) const {
    std::hash<std::string_view> h;
    return h(k.ods) ^ (h(k.measure) * 31) ^ (h(k.month) * 1009);
  }
};

bool NeedsDenominator(const v1::Measure& m) {
  return m.unit() == v1::UNIT_PROPORTION || m.unit() == v1::UNIT_RATE;
}

template <class Field>
void CheckMonth(const std::string& text, std::optional<Month> current, Field&& field,
                Violations& v, std::optional<Month>& out) {
  out = Month::Parse(text);
  if (!out) {
    v.Add(NameOf(field), "MALFORMED_MONTH",
          StrCat(Quote(text), " is not a month YYYY-MM (", Month::kMinYear, "..",
                       Month::kMaxYear, ")"));
  } else if (current && *out > *current) {
    v.Add(NameOf(field), "MONTH_IN_FUTURE",
          StrCat(text, " is after the current month ", current->ToString(),
                       " (Europe/London)"));
  }
}

template <class Field>
void CheckCount(int64_t value, int64_t min, Field&& field, Violations& v) {
  if (value < 0) {
    v.Add(NameOf(field), "NEGATIVE", StrCat(value, " is negative"));
  } else if (value < min) {
    v.Add(NameOf(field), "ZERO_DENOMINATOR", "must be at least 1");
  } else if (value > kMaxCount) {
    v.Add(NameOf(field), "OUT_OF_RANGE",
          StrCat(value, " is above the largest accepted count ", kMaxCount));
  }
}

}  // namespace

absl::Status CheckBounds(int rows, size_t request_bytes, std::string_view field,
                         std::string_view what, const SubmissionLimits& limits) {
  Violations v;
  if (static_cast<size_t>(rows) > limits.max_rows) {
    v.Add(std::string(field), "TOO_MANY_ROWS",
          StrCat(rows, " ", field, "; at most ", limits.max_rows, " per ", what,
                 ": split the request"));
  }
  if (request_bytes > limits.max_bytes) {
    v.Add(std::string(field), "TOO_LARGE",
          StrCat(request_bytes, " bytes; at most ", limits.max_bytes, " per ", what));
  }
  return v.ToStatus(StrCat(what, " over the bounds"), absl::StatusCode::kResourceExhausted);
}

absl::Status ValidateWithdrawal(const Catalogue& catalogue, const v1::ObservationsWithdrawn& w,
                                const SubmissionLimits& limits) {
  if (auto s = CheckBounds(w.keys_size(), 0, "keys", "withdrawal", limits); !s.ok()) return s;
  Violations v;
  if (!IsValidClientId(w.withdrawal_id())) {
    v.Add("withdrawal_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (w.reason().empty() || w.reason().size() > kMaxReason) {
    v.Add("reason", "INVALID_LENGTH", StrCat("must be 1..", kMaxReason, " characters"));
  }
  if (w.keys_size() == 0) v.Add("keys", "NO_KEYS", "a withdrawal names at least one value");
  if (!v.empty()) return v.ToStatus("withdrawal refused");
  std::unordered_map<std::string, int> first;
  for (int i = 0; i < w.keys_size(); ++i) {
    const v1::ObservationKey& k = w.keys(i);
    auto field = [i](std::string_view f) { return StrCat("keys[", i, "].", f); };
    if (catalogue.FindOrganisation(k.ods_code()) == nullptr) {
      v.Add(field("ods_code"), "UNKNOWN_ORGANISATION",
            StrCat("organisation ", Quote(k.ods_code()), " is not registered"));
    }
    if (catalogue.FindMeasure(k.measure_id()) == nullptr) {
      v.Add(field("measure_id"), "UNKNOWN_MEASURE",
            StrCat("measure ", Quote(k.measure_id()), " is not defined"));
    }
    std::optional<Month> month;
    CheckMonth(k.month(), std::nullopt, field("month"), v, month);
    auto [it, inserted] =
        first.emplace(StrCat(k.ods_code(), "\x1f", k.measure_id(), "\x1f", k.month()), i);
    if (!inserted) {
      v.Add(StrCat("keys[", i, "]"), "DUPLICATE_KEY",
            StrCat("repeats keys[", it->second, "]: ", Clip(k.ods_code()), " ",
                   Clip(k.measure_id()), " ", Clip(k.month())));
    }
  }
  return v.ToStatus("withdrawal refused");
}

absl::Status ValidatePublication(const v1::QuarterPublished& p) {
  Violations v;
  if (!IsValidClientId(p.publication_id())) {
    v.Add("publication_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (!Quarter::Parse(p.quarter())) {
    v.Add("quarter", "INVALID_QUARTER", StrCat(Quote(p.quarter()), " is not like 2024/25 Q1"));
  }
  if (p.report().empty()) v.Add("report", "REQUIRED", "the structured report is missing");
  if (p.renderings_size() == 0) v.Add("renderings", "REQUIRED", "nothing rendered");
  for (int i = 0; i < p.renderings_size(); ++i) {
    if (Sha256Hex(p.renderings(i).bytes()) != p.renderings(i).sha256()) {
      v.Add(StrCat("renderings[", i, "].sha256"), "HASH_MISMATCH",
            "the bytes do not have this hash");
    }
  }
  return v.ToStatus("publication refused");
}

absl::Status ValidateSignOff(const Catalogue& catalogue, const v1::QuarterSignedOff& s) {
  Violations v;
  if (!IsValidClientId(s.sign_off_id())) {
    v.Add("sign_off_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (!Quarter::Parse(s.quarter())) {
    v.Add("quarter", "INVALID_QUARTER", StrCat(Quote(s.quarter()), " is not like 2024/25 Q1"));
  }
  if (catalogue.FindCollaborative(s.collaborative_id()) == nullptr) {
    v.Add("collaborative_id", "UNKNOWN_COLLABORATIVE",
          StrCat("collaborative ", Quote(s.collaborative_id()), " is not registered"));
  }
  std::set<std::string, std::less<>> seen;
  for (int i = 0; i < s.figures_size(); ++i) {
    const std::string& id = s.figures(i).measure_id();
    if (catalogue.FindMeasure(id) == nullptr) {
      v.Add(StrCat("figures[", i, "].measure_id"), "UNKNOWN_MEASURE",
            StrCat("measure ", Quote(id), " is not defined"));
    } else if (!seen.insert(id).second) {
      v.Add(StrCat("figures[", i, "].measure_id"), "DUPLICATE_MEASURE",
            StrCat("measure ", Quote(id), " appears twice"));
    }
  }
  return v.ToStatus("sign-off refused");
}

absl::Status ValidateSpcLimitsChange(const Catalogue& catalogue, const v1::SpcLimitsChanged& c,
                                     std::string_view prefix) {
  Violations v;
  auto field = [&](std::string_view name) { return StrCat(prefix, name); };
  if (!IsValidClientId(c.change_id())) {
    v.Add(field("change_id"), "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (catalogue.FindMeasure(c.measure_id()) == nullptr) {
    v.Add(field("measure_id"), "UNKNOWN_MEASURE",
          StrCat("measure ", Quote(c.measure_id()), " is not defined"));
  }
  if (c.scope_case() == v1::SpcLimitsChanged::kCollaborativeId &&
      catalogue.FindCollaborative(c.collaborative_id()) == nullptr) {
    v.Add(field("collaborative_id"), "UNKNOWN_COLLABORATIVE",
          StrCat("collaborative ", Quote(c.collaborative_id()), " is not registered"));
  }
  if (c.scope_case() == v1::SpcLimitsChanged::kOdsCode &&
      catalogue.FindOrganisation(c.ods_code()) == nullptr) {
    v.Add(field("ods_code"), "UNKNOWN_ORGANISATION",
          StrCat("organisation ", Quote(c.ods_code()), " is not registered"));
  }
  if (!c.rebase_month().empty() && !Month::Parse(c.rebase_month())) {
    v.Add(field("rebase_month"), "MALFORMED_MONTH",
          StrCat(Quote(c.rebase_month()), " is not a month YYYY-MM (", Month::kMinYear, "..",
                 Month::kMaxYear, ")"));
  }
  if (c.fix_after_points() == 1 || c.fix_after_points() < -1) {
    v.Add(field("fix_after_points"), "OUT_OF_RANGE",
          StrCat(c.fix_after_points(),
                 ": limits need at least 2 points (-1 lets them float again, 0 leaves them)"));
  }
  if (c.rebase_month().empty() && c.fix_after_points() == 0) {
    v.Add(field("rebase_month"), "NOTHING_TO_CHANGE",
          "give a rebase month, fix_after_points, or both");
  }
  if (c.reason().empty() || c.reason().size() > kMaxReason) {
    v.Add(field("reason"), "INVALID_LENGTH",
          StrCat("must be 1..", kMaxReason, " characters: the reason is shown on the chart"));
  }
  return v.ToStatus("limits change refused");
}

absl::Status ValidateObservations(const Catalogue& catalogue,
                                  const v1::ObservationsSubmitted& batch, size_t request_bytes,
                                  std::optional<Month> current_month,
                                  const SubmissionLimits& limits) {
  if (auto s = CheckBounds(batch.rows_size(), request_bytes, "rows", "submission", limits);
      !s.ok()) {
    return s;
  }
  Violations v;
  if (!IsValidClientId(batch.submission_id())) {
    v.Add("submission_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (batch.rows_size() == 0) {
    v.Add("rows", "NO_ROWS", "a submission needs at least one row");
  }
  if (!v.empty()) return v.ToStatus("submission refused");

  std::unordered_map<KeyView, int, KeyViewHash> first_row;
  first_row.reserve(batch.rows_size());
  for (int i = 0; i < batch.rows_size(); ++i) {
    const v1::Observation& row = batch.rows(i);
    const v1::Organisation* org = catalogue.FindOrganisation(row.ods_code());
    if (org == nullptr) {
      v.Add(Row(i, "ods_code"), "UNKNOWN_ORGANISATION",
            StrCat("organisation ", Quote(row.ods_code()), " is not registered"));
    }
    const v1::Measure* measure = catalogue.FindMeasure(row.measure_id());
    if (measure == nullptr) {
      v.Add(Row(i, "measure_id"), "UNKNOWN_MEASURE",
            StrCat("measure ", Quote(row.measure_id()), " is not defined"));
    }
    std::optional<Month> month;
    CheckMonth(row.month(), current_month, [i] { return Row(i, "month"); }, v, month);
    if (org != nullptr && measure != nullptr && month &&
        !catalogue.IsEnrolled(row.ods_code(), row.measure_id(), *month)) {
      v.Add(Row(i, "ods_code"), "NOT_ENROLLED",
            StrCat(row.ods_code(), " is not enrolled for ", row.measure_id(), " in ",
                         row.month()));
    }
    CheckCount(row.numerator(), 0, [i] { return Row(i, "numerator"); }, v);
    if (measure != nullptr) {
      if (NeedsDenominator(*measure)) {
        if (!row.has_denominator()) {
          v.Add(Row(i, "denominator"), "MISSING_DENOMINATOR",
                StrCat(measure->id(), " is a ",
                             measure->unit() == v1::UNIT_RATE ? "rate" : "proportion",
                             " and needs a denominator (", measure->denominator_label(), ")"));
        } else {
          CheckCount(row.denominator(), 1, [i] { return Row(i, "denominator"); }, v);
          if (measure->unit() == v1::UNIT_PROPORTION && row.numerator() > row.denominator() &&
              row.denominator() > 0) {
            v.Add(Row(i, "numerator"), "NUMERATOR_ABOVE_DENOMINATOR",
                  StrCat(row.numerator(), " is above the denominator ", row.denominator(),
                               " of a proportion"));
          }
        }
      } else if (row.has_denominator()) {
        v.Add(Row(i, "denominator"), "UNEXPECTED_DENOMINATOR",
              StrCat(measure->id(), " is a count and takes no denominator"));
      }
    }
    auto [it, inserted] =
        first_row.emplace(KeyView{row.ods_code(), row.measure_id(), row.month()}, i);
    if (!inserted) {
      v.Add(StrCat("rows[", i, "]"), "DUPLICATE_KEY",
            StrCat("repeats rows[", it->second, "]: ", Clip(row.ods_code()), " ",
                   Clip(row.measure_id()), " ", Clip(row.month())));
    }
  }
  return v.ToStatus("submission refused");
}

absl::Status ValidateErasure(const v1::LearningErased& e) {
  Violations v;
  if (!IsValidClientId(e.erasure_id())) {
    v.Add("erasure_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (!IsValidClientId(e.learning_id())) {
    v.Add("learning_id", "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (e.reason().empty() || e.reason().size() > kMaxReason) {
    v.Add("reason", "INVALID_LENGTH", StrCat("must be 1..", kMaxReason, " characters"));
  }
  return v.ToStatus("erasure refused");
}

absl::Status ValidateLearning(const Catalogue& catalogue, const v1::Learning& l,
                              std::optional<Month> current_month, bool check_text) {
  Violations v;
  if (!IsValidClientId(l.learning_id())) {
    v.Add("learning.learning_id", "INVALID_ID",
          "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (catalogue.FindCollaborative(l.collaborative_id()) == nullptr) {
    v.Add("learning.collaborative_id", "UNKNOWN_COLLABORATIVE",
          StrCat("collaborative ", Quote(l.collaborative_id()), " is not registered"));
  }
  if (catalogue.FindTopic(l.topic_id()) == nullptr) {
    v.Add("learning.topic_id", "UNKNOWN_TOPIC",
          StrCat("topic ", Quote(l.topic_id()), " is not registered"));
  }
  if (l.kind() == v1::LEARNING_KIND_UNSPECIFIED || !v1::LearningKind_IsValid(l.kind())) {
    v.Add("learning.kind", "MISSING_KIND",
          "must be case study, story, innovative practice or what did not work");
  }
  std::optional<Month> month;
  CheckMonth(l.month(), current_month, "learning.month", v, month);
  // A learning read back from the log has its text sealed apart from it
  // (empty here, and checked when it was shared).
  if (check_text && (l.title().empty() || l.title().size() > kMaxTitle)) {
    v.Add("learning.title", "INVALID_LENGTH", StrCat("must be 1..", kMaxTitle, " characters"));
  }
  if (l.summary().size() > kMaxText) {
    v.Add("learning.summary", "INVALID_LENGTH", StrCat("at most ", kMaxText, " characters"));
  }
  if (l.outcome().size() > kMaxText) {
    v.Add("learning.outcome", "INVALID_LENGTH", StrCat("at most ", kMaxText, " characters"));
  }
  for (const auto& [field, text] : {std::pair<const char*, const std::string*>{"learning.title", &l.title()},
                                    {"learning.summary", &l.summary()},
                                    {"learning.outcome", &l.outcome()}}) {
    if (FindNhsNumber(*text)) {
      // Never echo the number itself: the error must not spread it further.
      v.Add(field, "PATIENT_IDENTIFIER",
            "contains a 10-digit number that passes the NHS number check; remove patient "
            "identifiers from learning text");
    }
  }
  for (int i = 0; i < l.measure_ids_size(); ++i) {
    if (catalogue.FindMeasure(l.measure_ids(i)) == nullptr) {
      v.Add(StrCat("learning.measure_ids[", i, "]"), "UNKNOWN_MEASURE",
            StrCat("measure ", Quote(l.measure_ids(i)), " is not defined"));
    }
  }
  return v.ToStatus("learning refused");
}

}  // namespace psc
