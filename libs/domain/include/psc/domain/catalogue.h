// The reference data folded from the log: topics, collaboratives,
// organisations, measures, enrolments and memberships. Both the gateway (to
// validate) and the projection (to aggregate) fold the same CatalogueChanged
// events in log order, so they agree at every position.
//
// Membership: an organisation belongs to its registered collaborative_id in
// every month, except the months Membership records cover; for those, the
// latest record in log order names the collaborative. Counts by
// collaborative (EnrolledOrgMonths) count each organisation-month under the
// collaborative of that month.
//
// Not thread-safe: one writer folds; readers synchronise outside.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "psc/domain/period.h"
#include "psc/v1/catalog.pb.h"
#include "psc/v1/catalog_service.pb.h"
#include "psc/v1/events.pb.h"

namespace psc {

// Months [from, to], to open when absent: the months of an enrolment or of a
// membership.
struct MonthSpan {
  Month from;
  std::optional<Month> to;
  bool Contains(Month m) const { return m >= from && (!to || m <= *to); }
  bool Overlaps(const MonthSpan& o) const {
    return (!to || o.from <= *to) && (!o.to || from <= *o.to);
  }
  bool operator==(const MonthSpan&) const = default;
};

// Months of an organisation that a catalogue change moves from one
// collaborative to another.
struct MembershipMove {
  std::string ods_code;
  MonthSpan months;
  std::string from_collaborative;
  std::string to_collaborative;
  bool operator==(const MembershipMove&) const = default;
};

class Catalogue {
 public:
  Catalogue() = default;
  // Copies rebuild the enrolment index (it points into the copy's own keys).
  Catalogue(const Catalogue& other);
  Catalogue& operator=(const Catalogue& other);
  Catalogue(Catalogue&&) = default;
  Catalogue& operator=(Catalogue&&) = default;

  // Checks `change` against the current catalogue without modifying it: OK,
  // or INVALID_ARGUMENT naming every bad entry as `<prefix><list>[i].<field>`.
  // Identical re-registrations are fine; conflicting ones are refused.
  absl::Status Check(const v1::CatalogueChanged& change, std::string_view prefix = "") const;
  // Applies a change that Check accepted (behaviour is undefined otherwise).
  void Apply(const v1::CatalogueChanged& change);

  const v1::Topic* FindTopic(std::string_view id) const;
  const v1::Collaborative* FindCollaborative(std::string_view id) const;
  const v1::Organisation* FindOrganisation(std::string_view ods_code) const;
  const v1::Measure* FindMeasure(std::string_view id) const;

  // Whether the organisation is enrolled for the measure in `month`.
  bool IsEnrolled(std::string_view ods_code, std::string_view measure_id, Month month) const;
  // Measures the organisation has an enrolment for (in any month), sorted.
  std::vector<std::string> MeasuresEnrolled(std::string_view ods_code) const;
  // Id of the collaborative the organisation belonged to in `month` (its
  // membership timeline, else its registered collaborative), or nullptr
  // when it is not registered. Valid until the next Apply().
  const std::string* CollaborativeOf(std::string_view ods_code, Month month) const;
  // Whether the organisation has belonged to the collaborative in any month
  // (its registered collaborative or any run of its membership timeline).
  bool EverMemberOf(std::string_view ods_code, std::string_view collaborative_id) const;

  // The months whose collaborative the memberships of `change` would move,
  // by organisation registered before the change (organisations it
  // registers have no months to move), each organisation's moves in month
  // order and maximal (adjacent months with the same move are one). The
  // last move of an organisation may be open-ended. Call before Apply(),
  // with a change Check() accepted; the catalogue is not modified.
  std::vector<MembershipMove> MovesIn(const v1::CatalogueChanged& change) const;

  // Organisation-months enrolled for a measure in [from, to], for one
  // collaborative (each month counted under the collaborative the
  // organisation belonged to in it), or for all of them when
  // `collaborative_id` is empty. Cost: the change points of the measure's
  // enrolment counts, not organisations.
  int64_t EnrolledOrgMonths(std::string_view measure_id, std::string_view collaborative_id,
                            Month from, Month to) const;
  // Collaboratives with at least one organisation-month enrolled in the
  // measure, sorted.
  std::vector<std::string> CollaborativesEnrolledIn(std::string_view measure_id) const;

  const std::map<std::string, v1::Topic, std::less<>>& topics() const { return topics_; }
  const std::map<std::string, v1::Collaborative, std::less<>>& collaboratives() const {
    return collaboratives_;
  }
  const std::map<std::string, v1::Organisation, std::less<>>& organisations() const {
    return organisations_;
  }
  const std::map<std::string, v1::Measure, std::less<>>& measures() const { return measures_; }

  // Every enrolment span, by (measure id, ODS code).
  const std::map<std::pair<std::string, std::string>, std::vector<MonthSpan>, std::less<>>&
  enrolments() const {
    return enrolments_;
  }

  // Every entity, sorted by id, and the membership timelines (see
  // v1::Catalogue.memberships), as the CatalogService returns them.
  void ToProto(v1::Catalogue* out) const;

 private:
  using EnrolmentKey = std::pair<std::string, std::string>;  // (measure, ods)
  // An organisation's memberships: the month a run of months starts -> the
  // collaborative of that run, which lasts until the next key; "" (and
  // every month before the first key) is the registered collaborative.
  // Adjacent runs never hold the same value.
  using Timeline = std::map<Month, std::string>;

  // Moves the enrolled counts of one enrolment span by `sign`, month by
  // month under the organisation's collaborative of that month.
  void CountEnrolment(const std::string& measure_id, const std::string& ods_code,
                      const MonthSpan& span, int sign);

  std::map<std::string, v1::Topic, std::less<>> topics_;
  std::map<std::string, v1::Collaborative, std::less<>> collaboratives_;
  std::map<std::string, v1::Organisation, std::less<>> organisations_;
  std::map<std::string, v1::Measure, std::less<>> measures_;
  std::map<EnrolmentKey, std::vector<MonthSpan>, std::less<>> enrolments_;
  // ODS code -> membership timeline, for organisations with Membership
  // records.
  std::map<std::string, Timeline, std::less<>> timelines_;
  // measure -> collaborative -> month -> change in organisations enrolled
  // (+1 where a run of enrolled months in the collaborative starts, -1
  // after it ends; no zero entries): a difference array, so enrolled counts
  // for any period come from a prefix sum. A membership change moves the
  // organisation's runs between collaboratives.
  std::map<std::string, std::map<std::string, std::map<Month, int64_t>, std::less<>>, std::less<>>
      enrolled_delta_;

  // ODS code -> its enrolments, sorted by measure id: IsEnrolled (on the
  // path of every row validated) finds the organisation by hash and the
  // measure by binary search among its few hundred. Everything points into
  // enrolments_ (map nodes never move; enrolments are never removed), so a
  // copy rebuilds it.
  struct OdsEnrolment {
    const EnrolmentKey* key;
    const std::vector<MonthSpan>* spans;
  };
  std::unordered_map<std::string_view, std::vector<OdsEnrolment>> enrolments_by_ods_;
  void IndexEnrolments();
};

// Entries a change registers (topics, collaboratives, organisations,
// measures, enrolments, memberships): the row count of its receipt.
uint32_t EntriesIn(const v1::CatalogueChanged& change);

// Parses an enrolment's or a membership's months; nullopt when a month is
// malformed or to_month is before from_month.
std::optional<MonthSpan> SpanOf(const v1::Enrolment& e);
std::optional<MonthSpan> SpanOf(const v1::Membership& m);

}  // namespace psc
