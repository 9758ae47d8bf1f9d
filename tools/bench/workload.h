// The benchmark's workload: the demo programme scaled to N observation rows,
// cut into requests of a given size, and the same requests as log events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "psc/demo/demo.h"
#include "psc/domain/period.h"
#include "psc/v1/events.pb.h"

namespace psc::bench {

struct Workload {
  // The catalogue, in changes that each fit one request.
  std::vector<v1::CatalogueChanged> catalogue;
  // Every observation row in arrival order (returns, then corrections of
  // the month before, ...), resends left out.
  std::vector<v1::Observation> rows;
  // The months the rows cover; the report asks for the last whole quarter.
  Month first_month;
  Month last_month;
  Quarter report_quarter;
};

// The demo programme scaled to about `target_rows` rows: 15 collaboratives,
// about 300 measures, thousands of organisations (demo::BenchOptions).
Workload MakeWorkload(uint64_t target_rows, uint64_t seed);

// The first `rows` rows cut into submissions of at most `batch` rows, in
// order, with ids `<prefix>-<i>`; a batch also ends early where a key would
// repeat within it (a correction following its original closely). About
// one request in a hundred is sent again with its id a few requests later
// (`resend` set), as feeds that time out do.
std::vector<demo::DemoRequest> Requests(const Workload& w, size_t rows, size_t batch,
                                        const std::string& prefix);

// The requests in waves that may each be sent with any concurrency: a new
// wave starts where a request would change a value an earlier request of
// the wave set (a correction). Sending wave after wave, each once the one
// before is answered, keeps the log order of every value's changes, so the
// last value is the same for every client count and every system.
std::vector<std::vector<demo::DemoRequest>> Waves(std::vector<demo::DemoRequest> requests);

// Rows in requests that are not resends.
uint64_t RowsIn(const std::vector<demo::DemoRequest>& requests);

// The envelope a gateway would append for a request.
std::string EventOf(const v1::ObservationsSubmitted& batch);

}  // namespace psc::bench
