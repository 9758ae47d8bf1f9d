#include "psc/domain/catalogue.h"

#include <algorithm>

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

// Why an entity registered again with another definition is refused.
template <typename Entity>
std::string ChangedDefinition(const std::string& id, const Entity&, const Entity&) {
  return StrCat(Quote(id), " is already registered with a different definition; "
                         "a changed definition needs a new id");
}

// An organisation keeps its registered collaborative: a move is a membership.
std::string ChangedOrganisation(const std::string& id, const v1::Organisation& registered,
                                const v1::Organisation& again) {
  if (registered.collaborative_id() == again.collaborative_id()) {
    return ChangedDefinition(id, registered, again);
  }
  return StrCat(Quote(id), " is already registered in collaborative ",
                Quote(registered.collaborative_id()), "; to record that it belongs to ",
                Quote(again.collaborative_id()), " from some month, add a membership "
                "(memberships[]) instead of registering it again");
}

// Checks that a list registers each id at most once with one definition,
// and that ids already registered keep their definition (`describe` says
// why one changed is refused).
template <typename Map, typename List, typename IdOf, typename Describe>
void CheckUnique(const Map& registered, const List& list, std::string_view prefix,
                 std::string_view name, std::string_view id_field, IdOf id_of,
                 Describe describe, Violations& v) {
  std::map<std::string, int, std::less<>> seen;
  for (int i = 0; i < list.size(); ++i) {
    const auto& item = list.Get(i);
    const std::string& id = id_of(item);
    auto it = registered.find(id);
    if (it != registered.end() && !Same(it->second, item)) {
      v.Add(Path(prefix, name, i, id_field), "CONFLICTING_DEFINITION",
            describe(id, it->second, item));
    }
    auto [prev, inserted] = seen.emplace(id, i);
    if (!inserted && !Same(list.Get(prev->second), item)) {
      v.Add(Path(prefix, name, i, id_field), "CONFLICTING_DEFINITION",
            StrCat(Quote(id), " is defined differently at ", name, "[", prev->second, "]"));
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

std::optional<MonthSpan> ParseSpan(std::string_view from_month, std::string_view to_month) {
  auto from = Month::Parse(from_month);
  if (!from) return std::nullopt;
  MonthSpan span{*from, std::nullopt};
  if (!to_month.empty()) {
    auto to = Month::Parse(to_month);
    if (!to || *to < *from) return std::nullopt;
    span.to = *to;
  }
  return span;
}

// The months of `<list>[i]`, or nullopt after naming what is wrong with
// them.
std::optional<MonthSpan> CheckSpan(std::string_view from_month, std::string_view to_month,
                                   std::string_view prefix, std::string_view list, int i,
                                   Violations& v) {
  if (auto span = ParseSpan(from_month, to_month)) return span;
  auto from = Month::Parse(from_month);
  if (!from) {
    v.Add(Path(prefix, list, i, "from_month"), "MALFORMED_MONTH",
          StrCat(Quote(from_month), " is not a month YYYY-MM"));
  }
  auto to = Month::Parse(to_month);
  if (!to_month.empty() && !to) {
    v.Add(Path(prefix, list, i, "to_month"), "MALFORMED_MONTH",
          StrCat(Quote(to_month), " is not a month YYYY-MM"));
  } else if (from && to) {
    v.Add(Path(prefix, list, i, "to_month"), "INVALID_RANGE",
          StrCat("to_month ", to_month, " is before from_month ", from_month));
  }
  return std::nullopt;
}

// The collaborative of `month` in a timeline (see Catalogue::Timeline):
// nullptr for the registered one.
const std::string* RunAt(const std::map<Month, std::string>& timeline, Month month) {
  auto it = timeline.upper_bound(month);
  if (it == timeline.begin()) return nullptr;
  --it;
  return it->second.empty() ? nullptr : &it->second;
}

// Sets the collaborative of the months of `span` in a timeline, keeping
// adjacent runs distinct.
void Assign(std::map<Month, std::string>& timeline, const MonthSpan& span,
            const std::string& collaborative) {
  if (span.to) {
    const Month after = span.to->Plus(1);
    const std::string* then = RunAt(timeline, after);
    timeline.try_emplace(after, then == nullptr ? std::string() : *then);
    timeline.erase(timeline.lower_bound(span.from), timeline.lower_bound(after));
  } else {
    timeline.erase(timeline.lower_bound(span.from), timeline.end());
  }
  timeline[span.from] = collaborative;
  const std::string* previous = nullptr;  // the registered collaborative
  static const std::string kRegistered;
  for (auto it = timeline.begin(); it != timeline.end();) {
    if (it->second == (previous == nullptr ? kRegistered : *previous)) {
      it = timeline.erase(it);
    } else {
      previous = &it->second;
      ++it;
    }
  }
}

// Calls fn(run, collaborative) for each run of the months of `span` that
// one collaborative holds in `timeline` (nullptr: no membership records),
// in month order; `registered` stands for "".
template <typename Fn>
void ForEachRun(const std::map<Month, std::string>* timeline, const std::string& registered,
                const MonthSpan& span, Fn fn) {
  static const std::map<Month, std::string> kEmpty;
  if (timeline == nullptr) timeline = &kEmpty;
  auto resolve = [&](const std::string& c) -> const std::string& {
    return c.empty() ? registered : c;
  };
  const std::string* at = RunAt(*timeline, span.from);
  const std::string* current = at == nullptr ? &registered : at;
  Month from = span.from;
  for (auto next = timeline->upper_bound(span.from);
       next != timeline->end() && (!span.to || next->first <= *span.to); ++next) {
    fn(MonthSpan{from, next->first.Plus(-1)}, *current);
    from = next->first;
    current = &resolve(next->second);
  }
  fn(MonthSpan{from, span.to}, *current);
}

void Bump(std::map<Month, int64_t>& delta, Month month, int64_t by) {
  auto it = delta.try_emplace(month, 0).first;
  it->second += by;
  if (it->second == 0) delta.erase(it);
}

}  // namespace

std::optional<MonthSpan> SpanOf(const v1::Enrolment& e) {
  return ParseSpan(e.from_month(), e.to_month());
}

std::optional<MonthSpan> SpanOf(const v1::Membership& m) {
  return ParseSpan(m.from_month(), m.to_month());
}

absl::Status Catalogue::Check(const v1::CatalogueChanged& change, std::string_view prefix) const {
  Violations v;
  if (!IsValidClientId(change.change_id())) {
    v.Add(StrCat(prefix, "change_id"), "INVALID_ID",
          "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
  }
  if (EntriesIn(change) == 0) {
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
  CheckUnique(topics_, change.topics(), prefix, "topics", "id", topic_id,
              ChangedDefinition<v1::Topic>, v);

  for (int i = 0; i < change.collaboratives_size(); ++i) {
    const auto& c = change.collaboratives(i);
    if (!IsValidSlug(c.id())) {
      v.Add(Path(prefix, "collaboratives", i, "id"), "INVALID_ID",
            "must be 1..40 characters of a-z 0-9 -");
    }
    CheckName(c.name(), Path(prefix, "collaboratives", i, "name"), v);
  }
  CheckUnique(collaboratives_, change.collaboratives(), prefix, "collaboratives", "id", collab_id,
              ChangedDefinition<v1::Collaborative>, v);

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
            StrCat("collaborative ", Quote(o.collaborative_id()), " is not registered"));
    }
  }
  CheckUnique(organisations_, change.organisations(), prefix, "organisations", "ods_code", org_id,
              ChangedOrganisation, v);

  for (int i = 0; i < change.measures_size(); ++i) {
    const auto& m = change.measures(i);
    if (!IsValidMeasureId(m.id())) {
      v.Add(Path(prefix, "measures", i, "id"), "INVALID_ID",
            "must be 1..60 characters of a-z 0-9 . -");
    }
    CheckName(m.name(), Path(prefix, "measures", i, "name"), v);
    if (!Known(topics_, change.topics(), change.topics_size(), m.topic_id(), topic_id)) {
      v.Add(Path(prefix, "measures", i, "topic_id"), "UNKNOWN_TOPIC",
            StrCat("topic ", Quote(m.topic_id()), " is not registered"));
    }
    CheckMeasureShape(m, prefix, i, v);
  }
  CheckUnique(measures_, change.measures(), prefix, "measures", "id", measure_id,
              ChangedDefinition<v1::Measure>, v);

  auto known_org = [&](const std::string& ods, std::string_view list, int i) {
    if (Known(organisations_, change.organisations(), change.organisations_size(), ods, org_id)) {
      return true;
    }
    v.Add(Path(prefix, list, i, "ods_code"), "UNKNOWN_ORGANISATION",
          StrCat("organisation ", Quote(ods), " is not registered"));
    return false;
  };

  std::map<EnrolmentKey, std::vector<std::pair<int, MonthSpan>>> in_change;
  for (int i = 0; i < change.enrolments_size(); ++i) {
    const auto& e = change.enrolments(i);
    bool ok = known_org(e.ods_code(), "enrolments", i);
    if (!Known(measures_, change.measures(), change.measures_size(), e.measure_id(),
               measure_id)) {
      v.Add(Path(prefix, "enrolments", i, "measure_id"), "UNKNOWN_MEASURE",
            StrCat("measure ", Quote(e.measure_id()), " is not defined"));
      ok = false;
    }
    auto span = CheckSpan(e.from_month(), e.to_month(), prefix, "enrolments", i, v);
    if (!span || !ok) continue;
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

  // Memberships never conflict: a later one overrides an earlier one.
  for (int i = 0; i < change.memberships_size(); ++i) {
    const auto& m = change.memberships(i);
    known_org(m.ods_code(), "memberships", i);
    if (!Known(collaboratives_, change.collaboratives(), change.collaboratives_size(),
               m.collaborative_id(), collab_id)) {
      v.Add(Path(prefix, "memberships", i, "collaborative_id"), "UNKNOWN_COLLABORATIVE",
            StrCat("collaborative ", Quote(m.collaborative_id()), " is not registered"));
    }
    CheckSpan(m.from_month(), m.to_month(), prefix, "memberships", i, v);
  }
  return v.ToStatus("catalogue change refused");
}

Catalogue::Catalogue(const Catalogue& other)
    : topics_(other.topics_),
      collaboratives_(other.collaboratives_),
      organisations_(other.organisations_),
      measures_(other.measures_),
      enrolments_(other.enrolments_),
      timelines_(other.timelines_),
      enrolled_delta_(other.enrolled_delta_) {
  IndexEnrolments();
}

Catalogue& Catalogue::operator=(const Catalogue& other) {
  if (this != &other) *this = Catalogue(other);
  return *this;
}

void Catalogue::IndexEnrolments() {
  enrolments_by_ods_.clear();
  // enrolments_ is sorted by (measure, ods): each organisation's list comes
  // out sorted by measure.
  for (const auto& entry : enrolments_) {
    enrolments_by_ods_[entry.first.second].push_back({&entry.first, &entry.second});
  }
}

void Catalogue::Apply(const v1::CatalogueChanged& change) {
  for (const auto& t : change.topics()) topics_.try_emplace(t.id(), t);
  for (const auto& c : change.collaboratives()) collaboratives_.try_emplace(c.id(), c);
  for (const auto& o : change.organisations()) organisations_.try_emplace(o.ods_code(), o);
  for (const auto& m : change.measures()) measures_.try_emplace(m.id(), m);
  for (const auto& e : change.enrolments()) {
    auto span = SpanOf(e);
    if (!span || FindOrganisation(e.ods_code()) == nullptr) continue;
    auto [entry, inserted] = enrolments_.try_emplace(EnrolmentKey{e.measure_id(), e.ods_code()});
    if (inserted) {
      auto& list = enrolments_by_ods_[entry->first.second];
      auto at = std::lower_bound(
          list.begin(), list.end(), std::string_view(entry->first.first),
          [](const OdsEnrolment& a, std::string_view measure) { return a.key->first < measure; });
      list.insert(at, {&entry->first, &entry->second});
    }
    auto& spans = entry->second;
    bool known = false;
    for (const auto& s : spans) known = known || s == *span;
    if (known) continue;
    spans.push_back(*span);
    CountEnrolment(e.measure_id(), e.ods_code(), *span, +1);
  }
  for (const auto& m : change.memberships()) {
    auto span = SpanOf(m);
    if (!span || FindOrganisation(m.ods_code()) == nullptr) continue;
    // Take the organisation's enrolled months out of the counts, move them,
    // and count them again under the new timeline.
    auto count_all = [&](int sign) {
      auto list = enrolments_by_ods_.find(m.ods_code());
      if (list == enrolments_by_ods_.end()) return;
      for (const OdsEnrolment& e : list->second) {
        for (const MonthSpan& s : *e.spans) CountEnrolment(e.key->first, e.key->second, s, sign);
      }
    };
    count_all(-1);
    Assign(timelines_[m.ods_code()], *span, m.collaborative_id());
    count_all(+1);
  }
}

void Catalogue::CountEnrolment(const std::string& measure_id, const std::string& ods_code,
                               const MonthSpan& span, int sign) {
  const v1::Organisation* org = FindOrganisation(ods_code);
  if (org == nullptr) return;
  auto timeline = timelines_.find(ods_code);
  auto& by_collaborative = enrolled_delta_[measure_id];
  ForEachRun(timeline == timelines_.end() ? nullptr : &timeline->second, org->collaborative_id(),
             span, [&](const MonthSpan& run, const std::string& collaborative) {
               auto delta = by_collaborative.try_emplace(collaborative).first;
               Bump(delta->second, run.from, sign);
               if (run.to) Bump(delta->second, run.to->Plus(1), -sign);
               if (delta->second.empty()) by_collaborative.erase(delta);
             });
  if (by_collaborative.empty()) enrolled_delta_.erase(measure_id);
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
  auto list = enrolments_by_ods_.find(ods_code);
  if (list == enrolments_by_ods_.end()) return false;
  auto it = std::lower_bound(
      list->second.begin(), list->second.end(), measure_id,
      [](const OdsEnrolment& a, std::string_view measure) { return a.key->first < measure; });
  if (it == list->second.end() || it->key->first != measure_id) return false;
  for (const auto& s : *it->spans) {
    if (s.Contains(month)) return true;
  }
  return false;
}

std::vector<std::string> Catalogue::MeasuresEnrolled(std::string_view ods_code) const {
  auto list = enrolments_by_ods_.find(ods_code);
  if (list == enrolments_by_ods_.end()) return {};
  std::vector<std::string> out;
  out.reserve(list->second.size());
  for (const OdsEnrolment& e : list->second) out.push_back(e.key->first);
  return out;
}

const std::string* Catalogue::CollaborativeOf(std::string_view ods_code, Month month) const {
  const v1::Organisation* org = FindOrganisation(ods_code);
  if (org == nullptr) return nullptr;
  auto timeline = timelines_.find(ods_code);
  if (timeline != timelines_.end()) {
    if (const std::string* member = RunAt(timeline->second, month)) return member;
  }
  return &org->collaborative_id();
}

bool Catalogue::EverMemberOf(std::string_view ods_code, std::string_view collaborative_id) const {
  const v1::Organisation* org = FindOrganisation(ods_code);
  if (org == nullptr) return false;
  if (org->collaborative_id() == collaborative_id) return true;
  auto timeline = timelines_.find(ods_code);
  if (timeline == timelines_.end()) return false;
  for (const auto& [from, member] : timeline->second) {
    if (member == collaborative_id) return true;
  }
  return false;
}

std::vector<MembershipMove> Catalogue::MovesIn(const v1::CatalogueChanged& change) const {
  // The timelines of the organisations the change touches, after it.
  std::map<std::string, Timeline, std::less<>> after;
  for (const auto& m : change.memberships()) {
    auto span = SpanOf(m);
    if (!span || FindOrganisation(m.ods_code()) == nullptr) continue;
    auto [it, inserted] = after.try_emplace(m.ods_code());
    if (inserted) {
      if (auto before = timelines_.find(m.ods_code()); before != timelines_.end()) {
        it->second = before->second;
      }
    }
    Assign(it->second, *span, m.collaborative_id());
  }

  std::vector<MembershipMove> moves;
  static const Timeline kNone;
  for (const auto& [ods, timeline] : after) {
    const std::string& registered = FindOrganisation(ods)->collaborative_id();
    auto found = timelines_.find(ods);
    const Timeline& before = found == timelines_.end() ? kNone : found->second;
    // Both timelines are constant between their change points: compare them
    // at each one.
    std::set<Month> points;
    for (const auto& [month, _] : before) points.insert(month);
    for (const auto& [month, _] : timeline) points.insert(month);
    const size_t first_move = moves.size();
    for (auto p = points.begin(); p != points.end(); ++p) {
      const std::string* was = RunAt(before, *p);
      const std::string* is = RunAt(timeline, *p);
      const std::string& from = was == nullptr ? registered : *was;
      const std::string& to = is == nullptr ? registered : *is;
      auto next = std::next(p);
      MonthSpan months{*p, next == points.end() ? std::nullopt
                                                : std::optional<Month>(next->Plus(-1))};
      if (from == to) continue;
      if (moves.size() > first_move) {
        MembershipMove& last = moves.back();
        if (last.months.to && last.months.to->Plus(1) == months.from &&
            last.from_collaborative == from && last.to_collaborative == to) {
          last.months.to = months.to;
          continue;
        }
      }
      moves.push_back({ods, months, from, to});
    }
  }
  return moves;
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
  auto set_months = [](const MonthSpan& s, auto* out) {
    out->set_from_month(s.from.ToString());
    if (s.to) out->set_to_month(s.to->ToString());
  };
  for (const auto& [key, spans] : enrolments_) {
    for (const auto& s : spans) {
      auto* e = out->add_enrolments();
      e->set_measure_id(key.first);
      e->set_ods_code(key.second);
      set_months(s, e);
    }
  }
  for (const auto& [ods, timeline] : timelines_) {
    for (auto run = timeline.begin(); run != timeline.end(); ++run) {
      if (run->second.empty()) continue;  // the registered collaborative
      auto next = std::next(run);
      auto* m = out->add_memberships();
      m->set_ods_code(ods);
      m->set_collaborative_id(run->second);
      set_months({run->first, next == timeline.end() ? std::nullopt
                                                     : std::optional<Month>(next->first.Plus(-1))},
                 m);
    }
  }
}

uint32_t EntriesIn(const v1::CatalogueChanged& change) {
  return static_cast<uint32_t>(change.topics_size() + change.collaboratives_size() +
                               change.organisations_size() + change.measures_size() +
                               change.enrolments_size() + change.memberships_size());
}

}  // namespace psc
