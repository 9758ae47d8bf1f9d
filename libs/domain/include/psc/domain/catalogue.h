// The reference data folded from the log: topics, collaboratives,
// organisations, measures and enrolments. Both the gateway (to validate) and
// the projection (to aggregate) fold the same CatalogueChanged events in log
// order, so they agree at every position.
//
// Not thread-safe: one writer folds; readers synchronise outside.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "psc/domain/period.h"
#include "psc/v1/catalog.pb.h"
#include "psc/v1/catalog_service.pb.h"
#include "psc/v1/events.pb.h"

namespace psc {

// Months an organisation is enrolled for one measure: [from, to], to open
// when absent.
struct EnrolmentSpan {
  Month from;
  std::optional<Month> to;
  bool Contains(Month m) const { return m >= from && (!to || m <= *to); }
  bool Overlaps(const EnrolmentSpan& o) const {
    return (!to || o.from <= *to) && (!o.to || from <= *o.to);
  }
  bool operator==(const EnrolmentSpan&) const = default;
};

class Catalogue {
 public:
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
  // Id of the collaborative the organisation belonged to in `month`, or
  // nullptr when it is not registered.
  const std::string* CollaborativeOf(std::string_view ods_code, Month month) const;

  // Organisation-months enrolled for a measure in [from, to], for one
  // collaborative, or for all of them when `collaborative_id` is empty.
  int64_t EnrolledOrgMonths(std::string_view measure_id, std::string_view collaborative_id,
                            Month from, Month to) const;
  // Collaboratives with at least one enrolment in the measure, sorted.
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
  const std::map<std::pair<std::string, std::string>, std::vector<EnrolmentSpan>, std::less<>>&
  enrolments() const {
    return enrolments_;
  }

  // Every entity, sorted by id, as the CatalogService returns it.
  void ToProto(v1::Catalogue* out) const;

 private:
  using EnrolmentKey = std::pair<std::string, std::string>;  // (measure, ods)

  std::map<std::string, v1::Topic, std::less<>> topics_;
  std::map<std::string, v1::Collaborative, std::less<>> collaboratives_;
  std::map<std::string, v1::Organisation, std::less<>> organisations_;
  std::map<std::string, v1::Measure, std::less<>> measures_;
  std::map<EnrolmentKey, std::vector<EnrolmentSpan>, std::less<>> enrolments_;
  // measure -> collaborative -> month -> change in organisations enrolled
  // (+1 at a span's first month, -1 after its last): a difference array, so
  // enrolled counts for any period come from a prefix sum.
  std::map<std::string, std::map<std::string, std::map<Month, int64_t>, std::less<>>, std::less<>>
      enrolled_delta_;
};

// Entries a change registers (topics, collaboratives, organisations,
// measures, enrolments): the row count of its receipt.
uint32_t EntriesIn(const v1::CatalogueChanged& change);

// Parses an enrolment's months; nullopt when malformed.
std::optional<EnrolmentSpan> SpanOf(const v1::Enrolment& e);

}  // namespace psc
