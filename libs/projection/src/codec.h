// Key and value encoding of every column family of the read model.
//
// Notation: u16/u64 are big-endian fixed width (so keys sort numerically);
// vN is a protobuf-style varint; zN is a zigzag varint (signed); `id` is a
// string without NUL bytes; `\0` is one NUL byte separating ids. A month is
// u16 of (year * 12 + month - 1); a quarter is u16 of (fy_start_year * 4 +
// quarter - 1).
//
// meta
//   "applied_position" -> u64   events applied (the log position reached)
//   "log_id"           -> bytes the EventLog::LogId() of the log folded
//   "schema"           -> u64   kSchemaVersion
//   "observations"     -> u64   distinct observation keys stored
//   "refused_events"   -> u64   events refused at apply time
// catalogue
//   u64 position -> serialized psc.v1.CatalogueChanged, every change applied
//                   (refolded into the catalogue at start-up, memberships
//                   included)
// requests
//   'c' id -> serialized psc.v1.Receipt of a catalogue change id
//   's' id -> serialized psc.v1.Receipt of a submission id
//   'l' id -> serialized psc.v1.Receipt of a learning id
//   'w' id -> serialized psc.v1.Receipt of a withdrawal id
//   'p' id -> serialized psc.v1.Receipt of a publication id
//   'o' id -> serialized psc.v1.Receipt of a sign-off id
//   'x' id -> serialized psc.v1.Receipt of an SPC limits change id
//   'e' id -> serialized psc.v1.Receipt of an erasure id
// observations (one key per organisation and month, every measure's value
//               in it: a request's rows of one organisation-month are one
//               read and one write)
//   ods \0 month -> entries sorted by measure id, each:
//     vN length | measure | vN numerator | vN denominator + 1 (0: none)
//     | vN position | vN first_position | zN first_recorded_ms
// aggregates   (monthly sums of every measure, per collaborative: each
//               organisation's month under the collaborative it belonged
//               to in that month, as the catalogue now says)
//   month collaborative -> entries sorted by measure id, each:
//     vN length | measure | Sums: zN numerator | zN denominator
//     | zN reported | zN on_time
// quarter_last (AGGREGATION_LAST measures: per quarter, each organisation's
//               latest month in the quarter, summed per collaborative of
//               that month)
//   quarter collaborative -> entries as in aggregates
// history      (every change of every stored value: one entry per event
//               and organisation-month, oldest first)
//   ods \0 month u64 position -> vN length | serialized psc.v1.ValueChange
//     holding what the event's changes share (kind, recorded_at,
//     principal, request_id, reason), then per changed measure:
//     vN length | measure | vN flags (1 value, 2 its denominator,
//     4 previous value, 8 its denominator) | zN numerator | zN denominator
//     | zN previous numerator | zN previous denominator (each when flagged)
// publications (every publication of every quarter, oldest first)
//   quarter u64 position -> serialized psc.v1.Envelope of the QuarterPublished
// sign_offs    (each collaborative's latest sign-off of each quarter)
//   quarter collaborative -> u64 position | serialized psc.v1.Envelope of
//                            the QuarterSignedOff
// spc_limits   (every limits change of every series, oldest first)
//   measure \0 scope \0 u64 position -> serialized psc.v1.Envelope of the
//                                       SpcLimitsChanged
//   scope: "n" national, "c" collaborative id, "o" ODS code
// reporting    (which organisations have any value in a month)
//   month ods -> u64 values stored for the organisation in that month, over
//                every measure (absent when none)
// learning
//   id -> serialized psc.v1.LearningShared as on the log (text sealed; an
//         erased one has no sealed_text and no key_id)
// refused
//   u64 position -> UTF-8 reason the event was refused at apply time
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "psc/domain/aggregation.h"
#include "psc/domain/period.h"
#include "psc/v1/query.pb.h"

namespace psc::projection::codec {

// 4: aggregates follow membership by month (CatalogueChanged.memberships);
//    sign_offs and spc_limits column families.
// 5: reporting column family.
// 6: observations, aggregates, quarter_last and history packed per
//    organisation-month / period and collaborative.
// 7: learning holds the LearningShared with its text sealed; erasures.
inline constexpr uint64_t kSchemaVersion = 7;

inline constexpr char kMetaCf[] = "meta";
inline constexpr char kCatalogueCf[] = "catalogue";
inline constexpr char kRequestsCf[] = "requests";
inline constexpr char kObservationsCf[] = "observations";
inline constexpr char kAggregatesCf[] = "aggregates";
inline constexpr char kQuarterLastCf[] = "quarter_last";
inline constexpr char kLearningCf[] = "learning";
inline constexpr char kHistoryCf[] = "history";
inline constexpr char kPublicationsCf[] = "publications";
inline constexpr char kRefusedCf[] = "refused";
inline constexpr char kSignOffsCf[] = "sign_offs";
inline constexpr char kSpcLimitsCf[] = "spc_limits";
inline constexpr char kReportingCf[] = "reporting";

inline constexpr char kAppliedPositionKey[] = "applied_position";
inline constexpr char kLogIdKey[] = "log_id";
inline constexpr char kSchemaKey[] = "schema";
inline constexpr char kObservationCountKey[] = "observations";
inline constexpr char kRefusedCountKey[] = "refused_events";

inline constexpr char kCatalogueRequest = 'c';
inline constexpr char kSubmissionRequest = 's';
inline constexpr char kLearningRequest = 'l';
inline constexpr char kErasureRequest = 'e';
inline constexpr char kWithdrawalRequest = 'w';
inline constexpr char kPublicationRequest = 'p';
inline constexpr char kSignOffRequest = 'o';
inline constexpr char kSpcLimitsRequest = 'x';

std::string U64(uint64_t v);
std::optional<uint64_t> ParseU64(std::string_view bytes);

// One stored observation.
struct ObservationValue {
  int64_t numerator = 0;
  std::optional<int64_t> denominator;
  uint64_t position = 0;        // event that set the current value
  uint64_t first_position = 0;  // event that first set a value for the key
  int64_t first_recorded_ms = 0;
  bool operator==(const ObservationValue&) const = default;
};

// The observations key of one organisation's month.
std::string OrgMonthKey(std::string_view ods, Month month);
// Prefix of every month of one organisation.
std::string OrgMonthPrefix(std::string_view ods);
// Splits an observations key; the view points into `key`.
std::optional<std::pair<std::string_view, Month>> ParseOrgMonthKey(std::string_view key);

// One organisation-month's values, sorted by measure id. Decoded views
// point into the bytes decoded.
using MeasureValues = std::vector<std::pair<std::string_view, ObservationValue>>;
std::string EncodeOrgMonth(const MeasureValues& values);
bool DecodeOrgMonth(std::string_view bytes, MeasureValues* out);
// The value of one measure in encoded bytes (reset when absent), without
// decoding the others; false when the bytes are damaged.
bool FindInOrgMonth(std::string_view bytes, std::string_view measure,
                    std::optional<ObservationValue>* out);

// A period's sums of every measure, sorted by measure id.
using MeasureSums = std::vector<std::pair<std::string_view, Sums>>;
// aggregates / quarter_last key: month or quarter index, collaborative.
std::string PeriodKey(int period, std::string_view collaborative);
std::optional<std::pair<int, std::string_view>> ParsePeriodKey(std::string_view key);
std::string EncodeMeasureSums(const MeasureSums& sums);
bool DecodeMeasureSums(std::string_view bytes, MeasureSums* out);

std::string ReportingKey(Month month, std::string_view ods);
// Splits a reporting key into (month, ods); the view points into `key`.
std::optional<std::pair<Month, std::string_view>> ParseReportingKey(std::string_view key);

// One event's changes of one organisation-month (the history family).
struct MeasureChange {
  std::string measure;
  std::optional<ObservationValue> value;     // absent: withdrawn
  std::optional<ObservationValue> previous;  // absent: there was none
};
std::string HistoryKey(std::string_view ods, Month month, uint64_t position);
// `shared` is the serialized ValueChange of what the changes share.
std::string EncodeHistory(std::string_view shared, const std::vector<MeasureChange>& changes);
// The change of one measure in a history entry at `position` (reset when
// the event did not change it); false when the bytes are damaged.
bool FindInHistory(std::string_view bytes, std::string_view measure, uint64_t position,
                   std::optional<v1::ValueChange>* out);

std::string RequestKey(char kind, std::string_view id);

std::string SignOffKey(Quarter quarter, std::string_view collaborative);
// Prefix of every limits change of one series: collaborative and ods empty
// for the national series, at most one of them set.
std::string SpcLimitsPrefix(std::string_view measure, std::string_view collaborative,
                            std::string_view ods);

}  // namespace psc::projection::codec
