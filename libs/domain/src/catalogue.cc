#include "psc/domain/catalogue.h"

#include <google/protobuf/util/message_differencer.h>

#include "psc/domain/strings.h"
#include "psc/domain/ids.h"
#include "psc/domain/violations.h"

namespace psc {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr size_t kMaxNameLength = 200;

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

std::string Path(std::string_view prefix, std::string_view list, int i, std::string_view field) {
  return StrCat(prefix, list, "[", i, "]", field.empty() ? "" : ".", field);
}

bool HasDenominator(v1::Unit u) { return u == v1::UNIT_PROPORTION || u == v1::UNIT_RATE; }

// Finds `id` among entities registered in the catalogue or earlier in the
// change being checked.
template <typename Map, typename List, typename IdOf>
bool Known(const Map& registered, const List& in_change, int before, std::string_view id,
           IdOf id_of) {
  if (registered.find(id) != registered.end()) return true;
  for (int i = 0; i < before && i < in_change.size(); ++i) {
    if (id_of(in_change.Get(i)) == id) return true;
  }
  return false;
}

// Checks that a list registers each id at most once with one definition,
// and that ids already registered keep their definition.
template <typename Map, typename List, typename IdOf>
void CheckUnique(const Map& registered, const List& list, std::string_view prefix,
                 std::string_view name, std::string_view id_field, IdOf id_of, Violations& v) {
  std::map<std::string, int, std::less<>> seen;
  for (int i = 0; i < list.size(); ++i) {
    const auto& item = list.Get(i);
    const std::string& id = id_of(item);
    auto it = registered.find(id);
    if (it != registered.end() && !Same(it->second, item)) {
      v.Add(Path(prefix, name, i, id_field), "CONFLICTING_DEFINITION",
            StrCat("'", id, "' is already registered with a different definition; "
                                  "a changed definition needs a new id"));
    }
    auto [prev, inserted] = seen.emplace(id, i);
    if (!inserted && !Same(list.Get(prev->second), item)) {
      v.Add(Path(prefix, name, i, id_field), "CONFLICTING_DEFINITION",
            StrCat("'", id, "' is defined differently at ", name, "[", prev->second, "]"));
    }
  }
}

void CheckName(const std::string& name, std::string field, Violations& v) {
  if (name.empty() || name.size() > kMaxNameLength) {
    v.Add(std::move(field), "INVALID_NAME",
          StrCat("must be 1..", kMaxNameLength, " characters"));
  }
}

void CheckMeasureShape(const v1::Measure& m, std::string_view prefix, int i, Violations& v) {
  auto path = [&](std::string_view f) { return Path(prefix, "measures", i, f); };
  if (m.type() == v1::MEASURE_TYPE_UNSPECIFIED || !v1::MeasureType_IsValid(m.type())) {
    v.Add(path("type"), "MISSING_TYPE", "must be input, process, outcome or balancing");
  }
  if (m.unit() == v1::UNIT_UNSPECIFIED || !v1::Unit_IsValid(m.unit())) {
    v.Add(path("unit"), "MISSING_UNIT", "must be count, proportion or rate");
  }
  if (m.improvement() == v1::DIRECTION_UNSPECIFIED || !v1::Direction_IsValid(m.improvement())) {
    v.Add(path("improvement"), "MISSING_DIRECTION", "must be up, down or neither");
  }
  switch (m.aggregation()) {
    case v1::AGGREGATION_SUM:
      if (m.unit() != v1::UNIT_COUNT) {
        v.Add(path("aggregation"), "AGGREGATION_UNIT_MISMATCH",
              "sum applies to counts only; proportions and rates aggregate as ratio or last");
      }
      break;
    case v1::AGGREGATION_RATIO:
      if (!HasDenominator(m.unit())) {
        v.Add(path("aggregation"), "AGGREGATION_UNIT_MISMATCH",
              "ratio needs a denominator: unit must be proportion or rate");
      }
      break;
    case v1::AGGREGATION_LAST:
      break;
    default:
      v.Add(path("aggregation"), "MISSING_AGGREGATION", "must be sum, ratio or last");
  }
  if (m.unit() == v1::UNIT_RATE && m.rate_per() <= 0) {
    v.Add(path("rate_per"), "INVALID_RATE_PER", "a rate needs rate_per > 0 (e.g. 1000)");
  }
  if (m.unit() != v1::UNIT_RATE && m.rate_per() != 0) {
    v.Add(path("rate_per"), "INVALID_RATE_PER", "only rates take rate_per");
  }
  if (m.on_time_days() < 0 || m.on_time_days() > 366) {
    v.Add(path("on_time_days"), "OUT_OF_RANGE", "must be 0..366 (0: the default of 15)");
  }
}

}  // namespace

std::optional<EnrolmentSpan> SpanOf(const v1::Enrolment& e) {
  auto from = Month::Parse(e.from_month());
  if (!from) return std::nullopt;
  EnrolmentSpan span{*from, std::nullopt};
  if (!e.to_month().empty()) {
    auto to = Month::Parse(e.to_month());
    if (!to || *to < *from) return std::nullopt;
    span.to = *to;
  }
  return span;
}

absl::Status Catalogue::Check(const v1::CatalogueChanged& change, std::string_view prefix) const {
  Violations v;
  if (!IsValidClientId(change.change_id())) {
    v.Add(StrCat(prefix, "change_id"), "INVALID_ID",
          "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  const int entries = change.topics_size() + change.collaboratives_size() +
                      change.organisations_size() + change.measures_size() +
                      change.enrolments_size();
  if (entries == 0) {
    v.Add(StrCat(prefix, "topics"), "EMPTY_CHANGE", "the change registers nothing");
  }

  auto topic_id = [](const v1::Topic& t) -> const std::string& { return t.id(); };
  auto collab_id = [](const v1::Collaborative& c) -> const std::string& { return c.id(); };
  auto org_id = [](const v1::Organisation& o) -> const std::string& { return o.ods_code(); };
  auto measure_id = [](const v1::Measure& m) -> const std::string& { return m.id(); };

  for (int i = 0; i < change.topics_size(); ++i) {
    const auto& t = change.topics(i);
    if (!IsValidSlug(t.id())) {
      v.Add(Path(prefix, "topics", i, "id"), "INVALID_ID", "must be 1..40 characters of a-z 0-9 -");
    }
    CheckName(t.name(), Path(prefix, "topics", i, "name"), v);
  }
  CheckUnique(topics_, change.topics(), prefix, "topics", "id", topic_id, v);

  for (int i = 0; i < change.collaboratives_size(); ++i) {
    const auto& c = change.collaboratives(i);
    if (!IsValidSlug(c.id())) {
      v.Add(Path(prefix, "collaboratives", i, "id"), "INVALID_ID",
            "must be 1..40 characters of a-z 0-9 -");
    }
    CheckName(c.name(), Path(prefix, "collaboratives", i, "name"), v);
  }
  CheckUnique(collaboratives_, change.collaboratives(), prefix, "collaboratives", "id", collab_id,
              v);

  for (int i = 0; i < change.organisations_size(); ++i) {
    const auto& o = change.organisations(i);
    if (!IsValidOdsCode(o.ods_code())) {
      v.Add(Path(prefix, "organisations", i, "ods_code"), "INVALID_ODS_CODE",
            "must be 3..10 characters of A-Z 0-9");
    }
    CheckName(o.name(), Path(prefix, "organisations", i, "name"), v);
    if (o.sector() == v1::SECTOR_UNSPECIFIED || !v1::Sector_IsValid(o.sector())) {
      v.Add(Path(prefix, "organisations", i, "sector"), "MISSING_SECTOR",
            "must be acute, community, mental health, ambulance, primary care or social care");
    }
    if (!Known(collaboratives_, change.collaboratives(), change.collaboratives_size(),
               o.collaborative_id(), collab_id)) {
      v.Add(Path(prefix, "organisations", i, "collaborative_id"), "UNKNOWN_COLLABORATIVE",
            StrCat("collaborative '", o.collaborative_id(), "' is not registered"));
    }
  }
  CheckUnique(organisations_, change.organisations(), prefix, "organisations", "ods_code", org_id,
              v);

  for (int i = 0; i < change.measures_size(); ++i) {
    const auto& m = change.measures(i);
    if (!IsValidMeasureId(m.id())) {
      v.Add(Path(prefix, "measures", i, "id"), "INVALID_ID",
            "must be 1..60 characters of a-z 0-9 . -");
    }
    CheckName(m.name(), Path(prefix, "measures", i, "name"), v);
    if (!Known(topics_, change.topics(), change.topics_size(), m.topic_id(), topic_id)) {
      v.Add(Path(prefix, "measures", i, "topic_id"), "UNKNOWN_TOPIC",
            StrCat("topic '", m.topic_id(), "' is not registered"));
    }
    CheckMeasureShape(m, prefix, i, v);
  }
  CheckUnique(measures_, change.measures(), prefix, "measures", "id", measure_id, v);

  std::map<EnrolmentKey, std::vector<std::pair<int, EnrolmentSpan>>> in_change;
  for (int i = 0; i < change.enrolments_size(); ++i) {
    const auto& e = change.enrolments(i);
    bool ok = true;
    if (!Known(organisations_, change.organisations(), change.organisations_size(), e.ods_code(),
               org_id)) {
      v.Add(Path(prefix, "enrolments", i, "ods_code"), "UNKNOWN_ORGANISATION",
            StrCat("organisation '", e.ods_code(), "' is not registered"));
      ok = false;
    }
    if (!Known(measures_, change.measures(), change.measures_size(), e.measure_id(),
               measure_id)) {
      v.Add(Path(prefix, "enrolments", i, "measure_id"), "UNKNOWN_MEASURE",
            StrCat("measure '", e.measure_id(), "' is not defined"));
      ok = false;
    }
    auto span = SpanOf(e);
    if (!span) {
      if (!Month::Parse(e.from_month())) {
        v.Add(Path(prefix, "enrolments", i, "from_month"), "MALFORMED_MONTH",
              StrCat("'", e.from_month(), "' is not a month YYYY-MM"));
      } else {
        v.Add(Path(prefix, "enrolments", i, "to_month"), "MALFORMED_MONTH",
              StrCat("'", e.to_month(), "' is not a month YYYY-MM on or after from_month"));
      }
      continue;
    }
    if (!ok) continue;
    EnrolmentKey key{e.measure_id(), e.ods_code()};
    auto existing = enrolments_.find(key);
    bool duplicate = false;
    if (existing != enrolments_.end()) {
      for (const auto& s : existing->second) {
        if (s == *span) {
          duplicate = true;
        } else if (s.Overlaps(*span)) {
          v.Add(Path(prefix, "enrolments", i, "from_month"), "OVERLAPPING_ENROLMENT",
                StrCat(e.ods_code(), " is already enrolled for ", e.measure_id(),
                             " in months overlapping ", e.from_month(), "..", e.to_month()));
        }
      }
    }
    if (duplicate) continue;
    for (const auto& [j, s] : in_change[key]) {
      if (s.Overlaps(*span) && !(s == *span)) {
        v.Add(Path(prefix, "enrolments", i, "from_month"), "OVERLAPPING_ENROLMENT",
              StrCat("overlaps enrolments[", j, "] for the same organisation and measure"));
      }
    }
    in_change[key].emplace_back(i, *span);
  }
  return v.ToStatus("catalogue change refused");
}

void Catalogue::Apply(const v1::CatalogueChanged& change) {
  for (const auto& t : change.topics()) topics_.try_emplace(t.id(), t);
  for (const auto& c : change.collaboratives()) collaboratives_.try_emplace(c.id(), c);
  for (const auto& o : change.organisations()) organisations_.try_emplace(o.ods_code(), o);
  for (const auto& m : change.measures()) measures_.try_emplace(m.id(), m);
  for (const auto& e : change.enrolments()) {
    auto span = SpanOf(e);
    if (!span) continue;
    auto& spans = enrolments_[{e.measure_id(), e.ods_code()}];
    bool known = false;
    for (const auto& s : spans) known = known || s == *span;
    if (known) continue;
    spans.push_back(*span);
    const v1::Organisation* org = FindOrganisation(e.ods_code());
    if (org == nullptr) continue;
    auto& delta = enrolled_delta_[e.measure_id()][org->collaborative_id()];
    delta[span->from] += 1;
    if (span->to) delta[span->to->Plus(1)] -= 1;
  }
}

const v1::Topic* Catalogue::FindTopic(std::string_view id) const {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

const v1::Collaborative* Catalogue::FindCollaborative(std::string_view id) const {
  auto it = collaboratives_.find(id);
  return it == collaboratives_.end() ? nullptr : &it->second;
}

const v1::Organisation* Catalogue::FindOrganisation(std::string_view ods_code) const {
  auto it = organisations_.find(ods_code);
  return it == organisations_.end() ? nullptr : &it->second;
}

const v1::Measure* Catalogue::FindMeasure(std::string_view id) const {
  auto it = measures_.find(id);
  return it == measures_.end() ? nullptr : &it->second;
}

bool Catalogue::IsEnrolled(std::string_view ods_code, std::string_view measure_id,
                           Month month) const {
  auto it = enrolments_.find(std::make_pair(std::string(measure_id), std::string(ods_code)));
  if (it == enrolments_.end()) return false;
  for (const auto& s : it->second) {
    if (s.Contains(month)) return true;
  }
  return false;
}

const std::string* Catalogue::CollaborativeOf(std::string_view ods_code, Month) const {
  const v1::Organisation* org = FindOrganisation(ods_code);
  return org == nullptr ? nullptr : &org->collaborative_id();
}

int64_t Catalogue::EnrolledOrgMonths(std::string_view measure_id,
                                     std::string_view collaborative_id, Month from,
                                     Month to) const {
  auto m = enrolled_delta_.find(measure_id);
  if (m == enrolled_delta_.end()) return 0;
  int64_t total = 0;
  for (const auto& [collab, deltas] : m->second) {
    if (!collaborative_id.empty() && collab != collaborative_id) continue;
    // Walk the difference array: `level` organisations are enrolled from
    // each change point until the next.
    int64_t level = 0;
    auto it = deltas.begin();
    for (; it != deltas.end() && it->first <= from; ++it) level += it->second;
    Month cursor = from;
    for (; it != deltas.end() && it->first <= to; ++it) {
      total += level * cursor.MonthsUntil(it->first);
      cursor = it->first;
      level += it->second;
    }
    total += level * (cursor.MonthsUntil(to) + 1);
  }
  return total;
}

std::vector<std::string> Catalogue::CollaborativesEnrolledIn(std::string_view measure_id) const {
  std::vector<std::string> out;
  auto m = enrolled_delta_.find(measure_id);
  if (m == enrolled_delta_.end()) return out;
  for (const auto& [collab, deltas] : m->second) {
    if (!deltas.empty()) out.push_back(collab);
  }
  return out;
}

void Catalogue::ToProto(v1::Catalogue* out) const {
  for (const auto& [_, t] : topics_) *out->add_topics() = t;
  for (const auto& [_, c] : collaboratives_) *out->add_collaboratives() = c;
  for (const auto& [_, o] : organisations_) *out->add_organisations() = o;
  for (const auto& [_, m] : measures_) *out->add_measures() = m;
  for (const auto& [key, spans] : enrolments_) {
    for (const auto& s : spans) {
      auto* e = out->add_enrolments();
      e->set_measure_id(key.first);
      e->set_ods_code(key.second);
      e->set_from_month(s.from.ToString());
      if (s.to) e->set_to_month(s.to->ToString());
    }
  }
}

uint32_t EntriesIn(const v1::CatalogueChanged& change) {
  return static_cast<uint32_t>(change.topics_size() + change.collaboratives_size() +
                               change.organisations_size() + change.measures_size() +
                               change.enrolments_size());
}

}  // namespace psc
