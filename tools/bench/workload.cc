#include "workload.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "psc/domain/clock.h"
#include "psc/domain/strings.h"
#include "psc/eventlog/random_id.h"

namespace psc::bench {

void Workload::AddTo(const Row& row, v1::ObservationsSubmitted& out) const {
  v1::Observation* o = out.add_rows();
  o->set_ods_code(ods_codes[row.ods]);
  o->set_measure_id(measure_ids[row.measure]);
  o->set_month(months[row.month]);
  o->set_numerator(row.numerator);
  if (row.denominator != 0) o->set_denominator(row.denominator);
}

namespace {

// Names to indexes, in order of first sight.
template <typename Index>
class Interner {
 public:
  explicit Interner(std::vector<std::string>& names) : names_(names) {}
  Index operator()(const std::string& name) {
    auto [it, added] = index_.try_emplace(name, static_cast<Index>(names_.size()));
    if (added) {
      if (names_.size() > std::numeric_limits<Index>::max()) {
        throw std::length_error(StrCat("more than ", std::numeric_limits<Index>::max(), " names"));
      }
      names_.push_back(name);
    }
    return it->second;
  }

 private:
  std::vector<std::string>& names_;
  std::unordered_map<std::string, Index> index_;
};

uint32_t Count(int64_t value) {
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    throw std::out_of_range(StrCat("count ", value, " does not fit a row"));
  }
  return static_cast<uint32_t>(value);
}

}  // namespace

Workload MakeWorkload(uint64_t target_rows, uint64_t seed) {
  // 15 collaboratives, about 300 measures, organisations and enrolment
  // rates chosen for `target_rows` (demo::BenchOptions); streamed, so that
  // only the rows are kept.
  const demo::DemoOptions options = demo::BenchOptions(target_rows, seed);
  Workload w;
  w.catalogue = demo::DemoCatalogue(options);
  w.first_month = options.first_month;
  w.last_month = options.first_month.Plus(options.months - 1);
  for (Month m = w.first_month; m <= w.last_month; m = m.Plus(1)) w.months.push_back(m.ToString());
  Quarter q = Quarter::Containing(w.last_month);
  if (q.LastMonth() != w.last_month) q = Quarter::Containing(q.FirstMonth().Plus(-1));
  w.report_quarter = q;
  w.rows.reserve(static_cast<size_t>(demo::ExpectedRows(options) * 1.02));
  Interner<uint32_t> ods(w.ods_codes);
  Interner<uint16_t> measures(w.measure_ids);
  demo::GenerateStream(options, [&](demo::DemoRequest&& r) {
    if (r.resend || !r.observations) return;
    for (const auto& o : r.observations->rows()) {
      const auto month = Month::Parse(o.month());
      if (!month || *month < w.first_month || *month > w.last_month) {
        throw std::out_of_range(StrCat("row month ", o.month(), " outside the workload"));
      }
      w.rows.push_back({ods(o.ods_code()), measures(o.measure_id()),
                        static_cast<uint16_t>(w.first_month.MonthsUntil(*month)),
                        Count(o.numerator()), o.has_denominator() ? Count(o.denominator()) : 0});
    }
  });
  return w;
}

Plan::Plan(const Workload& w, size_t rows, size_t batch, std::string prefix)
    : w_(&w), prefix_(std::move(prefix)) {
  rows = std::min(rows, w.rows.size());
  batch = std::max<size_t>(batch, 1);
  rows_ = rows;
  // Cut: at `batch` rows, or before a key the request already holds.
  std::vector<Request> cut;
  {
    std::unordered_set<uint64_t> keys;
    Request current;
    auto close = [&] {
      if (current.size == 0) return;
      current.number = static_cast<uint32_t>(cut.size());
      cut.push_back(current);
      current = Request{};
      keys.clear();
    };
    for (size_t i = 0; i < rows; ++i) {
      if (!keys.insert(Workload::KeyOf(w.rows[i])).second) {
        close();
        keys.insert(Workload::KeyOf(w.rows[i]));
      }
      if (current.size == 0) current.first_row = i;
      ++current.size;
      if (current.size >= batch) close();
    }
    close();
  }
  // Every hundredth request again, eight requests later.
  requests_.reserve(cut.size() + cut.size() / 100 + 1);
  std::deque<std::pair<size_t, Request>> pending;
  for (size_t i = 0; i < cut.size(); ++i) {
    if (i % 100 == 99) {
      Request again = cut[i];
      again.resend = true;
      pending.emplace_back(i + 8, again);
    }
    requests_.push_back(cut[i]);
    while (!pending.empty() && pending.front().first <= i) {
      requests_.push_back(pending.front().second);
      pending.pop_front();
    }
  }
  for (auto& [at, r] : pending) requests_.push_back(r);
  // Waves: a new one where a request repeats a key of the current one (a
  // resend repeats its original's rows exactly: it never changes a value).
  std::unordered_set<uint64_t> keys;
  size_t begin = 0;
  for (size_t i = 0; i < requests_.size(); ++i) {
    const Request& r = requests_[i];
    if (r.resend) continue;
    const Row* first = w.rows.data() + r.first_row;
    const bool repeats = std::any_of(first, first + r.size, [&](const Row& row) {
      return keys.count(Workload::KeyOf(row)) > 0;
    });
    if (repeats && i > begin) {
      waves_.emplace_back(begin, i);
      begin = i;
      keys.clear();
    }
    for (const Row* row = first; row != first + r.size; ++row) keys.insert(Workload::KeyOf(*row));
  }
  if (begin < requests_.size()) waves_.emplace_back(begin, requests_.size());
}

std::string Plan::SubmissionId(size_t i) const { return StrCat(prefix_, "-", requests_[i].number); }

void Plan::Fill(size_t i, v1::ObservationsSubmitted& out) const {
  const Request& r = requests_[i];
  out.set_submission_id(SubmissionId(i));
  out.mutable_rows()->Reserve(static_cast<int>(r.size));
  for (uint64_t row = r.first_row; row < r.first_row + r.size; ++row) {
    w_->AddTo(w_->rows[row], out);
  }
}

demo::DemoRequest Plan::Demo(size_t i) const {
  demo::DemoRequest out;
  Fill(i, out.observations.emplace());
  out.resend = requests_[i].resend;
  return out;
}

std::string Plan::Event(size_t i) const {
  v1::Envelope envelope;
  envelope.set_event_id(eventlog::RandomId());
  *envelope.mutable_recorded_at() = ToTimestamp(SystemClock::Instance().Now());
  envelope.set_principal("bench");
  Fill(i, *envelope.mutable_observations_submitted());
  return envelope.SerializeAsString();
}

}  // namespace psc::bench
