#include "workload.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "psc/domain/clock.h"
#include "psc/domain/strings.h"
#include "psc/eventlog/random_id.h"

namespace psc::bench {

Workload MakeWorkload(uint64_t target_rows, uint64_t seed) {
  // 15 collaboratives, about 300 measures, organisations and enrolment
  // rates chosen for `target_rows` (demo::BenchOptions); streamed, so that
  // only the rows are kept.
  const demo::DemoOptions options = demo::BenchOptions(target_rows, seed);
  Workload w;
  w.catalogue = demo::DemoCatalogue(options);
  w.first_month = options.first_month;
  w.last_month = options.first_month.Plus(options.months - 1);
  Quarter q = Quarter::Containing(w.last_month);
  if (q.LastMonth() != w.last_month) q = Quarter::Containing(q.FirstMonth().Plus(-1));
  w.report_quarter = q;
  w.rows.reserve(static_cast<size_t>(demo::ExpectedRows(options) * 1.02));
  demo::GenerateStream(options, [&](demo::DemoRequest&& r) {
    if (r.resend || !r.observations) return;
    for (auto& row : *r.observations->mutable_rows()) w.rows.push_back(std::move(row));
  });
  return w;
}

std::vector<demo::DemoRequest> Requests(const Workload& w, size_t rows, size_t batch,
                                        const std::string& prefix) {
  rows = std::min(rows, w.rows.size());
  batch = std::max<size_t>(batch, 1);
  std::vector<demo::DemoRequest> out;
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  v1::ObservationsSubmitted current;
  auto close = [&] {
    if (current.rows_size() == 0) return;
    current.set_submission_id(StrCat(prefix, "-", out.size()));
    demo::DemoRequest r;
    r.observations = std::move(current);
    out.push_back(std::move(r));
    current = v1::ObservationsSubmitted();
    keys.clear();
  };
  for (size_t i = 0; i < rows; ++i) {
    const v1::Observation& row = w.rows[i];
    if (!keys.emplace(row.ods_code(), row.measure_id(), row.month()).second) close();
    if (current.rows_size() == 0) keys.emplace(row.ods_code(), row.measure_id(), row.month());
    *current.add_rows() = row;
    if (static_cast<size_t>(current.rows_size()) >= batch) close();
  }
  close();
  // Every hundredth request again, eight requests later.
  std::vector<demo::DemoRequest> with_resends;
  with_resends.reserve(out.size() + out.size() / 100 + 1);
  std::vector<std::pair<size_t, demo::DemoRequest>> pending;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i % 100 == 99) {
      demo::DemoRequest again = out[i];
      again.resend = true;
      pending.emplace_back(i + 8, std::move(again));
    }
    with_resends.push_back(std::move(out[i]));
    while (!pending.empty() && pending.front().first <= i) {
      with_resends.push_back(std::move(pending.front().second));
      pending.erase(pending.begin());
    }
  }
  for (auto& [at, r] : pending) with_resends.push_back(std::move(r));
  return with_resends;
}

std::vector<std::vector<demo::DemoRequest>> Waves(std::vector<demo::DemoRequest> requests) {
  std::vector<std::vector<demo::DemoRequest>> waves(1);
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  for (auto& r : requests) {
    // A resend repeats its original's rows exactly: it never changes a value.
    if (!r.resend && r.observations) {
      bool repeats = false;
      for (const auto& row : r.observations->rows()) {
        if (keys.count({row.ods_code(), row.measure_id(), row.month()}) > 0) {
          repeats = true;
          break;
        }
      }
      if (repeats && !waves.back().empty()) {
        waves.emplace_back();
        keys.clear();
      }
      for (const auto& row : r.observations->rows()) {
        keys.emplace(row.ods_code(), row.measure_id(), row.month());
      }
    }
    waves.back().push_back(std::move(r));
  }
  return waves;
}

uint64_t RowsIn(const std::vector<demo::DemoRequest>& requests) {
  uint64_t rows = 0;
  for (const auto& r : requests) {
    if (!r.resend && r.observations) rows += static_cast<uint64_t>(r.observations->rows_size());
  }
  return rows;
}

std::string EventOf(const v1::ObservationsSubmitted& batch) {
  v1::Envelope envelope;
  envelope.set_event_id(eventlog::RandomId());
  *envelope.mutable_recorded_at() = ToTimestamp(SystemClock::Instance().Now());
  envelope.set_principal("bench");
  *envelope.mutable_observations_submitted() = batch;
  return envelope.SerializeAsString();
}

}  // namespace psc::bench
