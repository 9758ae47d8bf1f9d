// A realistic, deterministic demo dataset for the PSC programme: the 15
// collaboratives with synthetic organisations, the catalogue of topics,
// measures and enrolments, two years of monthly returns (with the gaps,
// corrections and resent requests that real feeds produce) and quarterly
// learning. For demos, load tests, end-to-end tests and benchmarks.
//
// Same options, same bytes, on any platform: every random draw comes from
// std::mt19937_64's raw output (fixed by the standard) through our own
// helpers, and the arithmetic avoids library functions whose rounding may
// differ between platforms.
//
// Sizes: the default options give 330 organisations, 23 measures and about
// 77,000 observation rows. BenchOptions() scales the same shape (more
// organisations, each measure registered as several variants, a tuned
// enrolment rate) to millions of rows; GenerateStream() produces such a
// dataset request by request without holding it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "psc/domain/period.h"
#include "psc/v1/catalog.pb.h"
#include "psc/v1/events.pb.h"

namespace psc::demo {

inline constexpr uint64_t kDefaultSeed = 20250401;

struct DemoOptions {
  uint64_t seed = kDefaultSeed;
  int organisations_per_collaborative = 22;  // 15 x 22 = 330 organisations
  Month first_month = Month::FromYearMonth(2023, 4);
  int months = 24;  // Apr 2023 .. Mar 2025
  // Each of the demo's 23 measure definitions is registered this many
  // times. Variant 1 keeps the definition's id (`falls-harm-rate.v1`);
  // variant k > 1 is `falls-harm-rate-wNN.v1` (NN = k, zero-padded to two
  // digits, or to as many as the largest variant needs), named "... (ward
  // set k)", with the same topic, unit, aggregation and value model, and
  // values drawn independently: as if each organisation measured the same
  // thing on several sets of wards.
  int measure_variants = 1;
  // Share of the measures that apply to an organisation's sector that it
  // enrols in (an organisation enrolled in none gets one).
  double enrol_rate = 0.70;
  // Organisation-months whose return never arrives.
  double gap_rate = 0.04;
  // Rows later corrected under a new submission id.
  double correction_rate = 0.05;
  // Submissions sent twice with the same id.
  double resend_rate = 0.01;
  int learning_per_collaborative_quarter = 2;
};

struct DemoRequest {
  // Exactly one of the two is set.
  std::optional<v1::ObservationsSubmitted> observations;
  std::optional<v1::Learning> learning;
  // Repeats an earlier request id verbatim (expected to be a no-op).
  bool resend = false;
  // Changes values an earlier return sent, under its own id
  // (`<ods>-<month>-fix1`); a resent correction has both flags.
  bool correction = false;
};

// Largest serialized size of one catalogue change in `catalogue_changes`
// (exclusive): well inside a gRPC request and an event on the log (8 MiB
// each) with room for the envelope.
inline constexpr size_t kCatalogueChangeBytes = 2 * 1024 * 1024;

struct DemoData {
  // Topics, collaboratives, organisations, measures and enrolments in one
  // change, id "demo-catalogue-1". Load it (or catalogue_changes) before any
  // request. For large options it exceeds what one request may carry: use
  // catalogue_changes.
  v1::CatalogueChanged catalogue;
  // The same catalogue as changes of under kCatalogueChangeBytes each, to
  // load in order; see DemoCatalogue().
  std::vector<v1::CatalogueChanged> catalogue_changes;
  // Observations and learning, in arrival order. The returns for a month
  // arrive early the next month (organisations in a shuffled order), then
  // corrections of the month before, then learning; resends arrive one to
  // three months after their original.
  std::vector<DemoRequest> requests;
  // Observation rows over all requests, resends included.
  size_t rows = 0;
  // Distinct (organisation, measure, month) keys after corrections.
  size_t distinct_observations = 0;
};

// Builds the dataset. Every observation month lies in
// [first_month, first_month + months - 1]: validate with the current month
// first_month + months (or later).
DemoData Generate(const DemoOptions& options = {});

// The catalogue of Generate(options) as changes `demo-catalogue-1`,
// `demo-catalogue-2`, ..., each serializing to under kCatalogueChangeBytes.
// When the whole catalogue fits, exactly one change equal to
// Generate(options).catalogue. Otherwise topics, collaboratives,
// organisations and measures come first, packed in that order, and the
// enrolments follow in changes of their own (a change then never enrols an
// organisation or measure it registers itself). Applied in order they give
// the same catalogue as the single change.
std::vector<v1::CatalogueChanged> DemoCatalogue(const DemoOptions& options = {});
// The same changes, handed to `sink` one at a time as they are built.
void DemoCatalogueStream(const DemoOptions& options,
                         const std::function<void(v1::CatalogueChanged&&)>& sink);

// Hands the requests of Generate(options) to `sink` one at a time: the same
// requests, in the same order, without holding them all. Memory: the
// generated values (8 bytes per enrolled organisation-measure-month, about
// 400 MB for 50 million rows) and a few months of corrections and resends;
// the requests themselves only while `sink` runs. Load DemoCatalogue()
// first.
void GenerateStream(const DemoOptions& options, const std::function<void(DemoRequest&&)>& sink);

// The expected number of observation rows of Generate(options), resends
// included, from the catalogue alone (no values are generated): enrolled
// organisation-measure-months x (1 - gap_rate) x (1 + correction_rate) x
// (1 + resend_rate). The dataset's actual count differs by chance only.
double ExpectedRows(const DemoOptions& options = {});

// Options for a benchmark dataset of about `target_rows` observation rows
// (within a few percent from 10,000 rows up; ExpectedRows() says how
// many): 299 measures (13 variants of each definition), 24 months, the
// default gap, correction and resend rates, and
//  - up to about 6.4 million rows: 2,100 organisations (140 per
//    collaborative), each enrolled in the share of its measures that meets
//    the target (0.11 for a million rows); below about 900,000 rows, fewer
//    organisations, each enrolled in at least a tenth of its measures;
//  - above: enrol_rate 0.7, as in the demo, and as many organisations as
//    the target needs (about 3,300 for 10 million rows, 16,000 for 50
//    million).
// Deterministic: the same target and seed give the same options, hence the
// same bytes.
DemoOptions BenchOptions(uint64_t target_rows, uint64_t seed = kDefaultSeed);

}  // namespace psc::demo
