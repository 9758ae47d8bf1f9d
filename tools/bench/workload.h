// The benchmark's workload: the demo programme scaled to N observation rows,
// cut into requests of a given size, and the same requests as log events.
//
// Rows are kept interned (16 bytes each) and requests as runs of rows, so
// that 50M rows fit in well under a gigabyte; the messages are made only as
// each request is sent.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "psc/demo/demo.h"
#include "psc/domain/period.h"
#include "psc/v1/events.pb.h"

namespace psc::bench {

// One observation row, its names as indexes into the workload's tables.
struct Row {
  uint32_t ods = 0;          // Workload::ods_codes
  uint16_t measure = 0;      // Workload::measure_ids
  uint16_t month = 0;        // months after Workload::first_month
  uint32_t numerator = 0;    // 0..1e9
  uint32_t denominator = 0;  // 1..1e9, or 0: none (a count)
};
static_assert(sizeof(Row) == 16);

struct Workload {
  // The catalogue, in changes that each fit one request.
  std::vector<v1::CatalogueChanged> catalogue;
  // Every observation row in arrival order (returns, then corrections of
  // the month before, ...), resends left out.
  std::vector<Row> rows;
  std::vector<std::string> ods_codes;
  std::vector<std::string> measure_ids;
  std::vector<std::string> months;  // `YYYY-MM`, from first_month on
  // The months the rows cover; the report asks for the last whole quarter.
  Month first_month;
  Month last_month;
  Quarter report_quarter;

  // The row as a message, added to `out`.
  void AddTo(const Row& row, v1::ObservationsSubmitted& out) const;
  // The row's (organisation, measure, month), as one number.
  static uint64_t KeyOf(const Row& row) {
    return (uint64_t{row.ods} << 32) | (uint64_t{row.measure} << 16) | row.month;
  }
};

// The demo programme scaled to about `target_rows` rows: 15 collaboratives,
// about 300 measures, thousands of organisations (demo::BenchOptions).
Workload MakeWorkload(uint64_t target_rows, uint64_t seed);

// One request: a run of consecutive rows sent under the id
// `<prefix>-<number>`.
struct Request {
  uint64_t first_row = 0;
  uint32_t size = 0;
  uint32_t number = 0;
  bool resend = false;  // repeats an earlier request verbatim
};

// The first `rows` rows of a workload cut into requests of at most `batch`
// rows, in order; a request also ends early where a key would repeat
// within it (a correction following its original closely). About one
// request in a hundred is sent again with its id a few requests later
// (`resend` set), as feeds that time out do.
//
// The requests come in waves that may each be sent with any concurrency:
// a new wave starts where a request would change a value an earlier
// request of the wave set (a correction). Sending wave after wave, each
// once the one before is answered, keeps the log order of every value's
// changes, so the last value is the same for every client count and every
// system.
class Plan {
 public:
  Plan(const Workload& w, size_t rows, size_t batch, std::string prefix);

  size_t size() const { return requests_.size(); }
  const Request& request(size_t i) const { return requests_[i]; }
  // Rows in requests that are not resends.
  uint64_t rows() const { return rows_; }
  // Each wave as [begin, end) indexes of requests.
  const std::vector<std::pair<size_t, size_t>>& waves() const { return waves_; }

  std::string SubmissionId(size_t i) const;
  // Request i as a message, or as the demo loader sends it.
  void Fill(size_t i, v1::ObservationsSubmitted& out) const;
  demo::DemoRequest Demo(size_t i) const;
  // Request i as the envelope a gateway would append for it.
  std::string Event(size_t i) const;

 private:
  const Workload* w_;
  std::string prefix_;
  std::vector<Request> requests_;
  std::vector<std::pair<size_t, size_t>> waves_;
  uint64_t rows_ = 0;
};

}  // namespace psc::bench
