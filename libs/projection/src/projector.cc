#include "psc/projection/projector.h"

#include <algorithm>
#include <iostream>

#include "psc/domain/strings.h"

namespace psc::projection {

Projector::Projector(ReadModel& model, eventlog::EventLog& log, ProjectorOptions options)
    : model_(model), log_(log), options_(options), probe_(options.metrics) {}

Projector::~Projector() { Stop(); }

absl::StatusOr<size_t> Projector::Step(eventlog::LogReader& reader, std::chrono::milliseconds wait,
                                       uint64_t& bytes) {
  auto records = reader.Read(options_.max_events_per_read, wait);
  if (!records.ok()) return records.status();
  size_t begin = 0;
  while (begin < records->size()) {
    size_t end = begin;
    size_t run_bytes = 0;
    while (end < records->size() && (end == begin || run_bytes < options_.max_bytes_per_apply)) {
      run_bytes += (*records)[end].payload.size();
      ++end;
    }
    std::vector<eventlog::Record> run(std::make_move_iterator(records->begin() + begin),
                                      std::make_move_iterator(records->begin() + end));
    const auto start = std::chrono::steady_clock::now();
    const uint64_t refused_before = model_.refused_events();
    if (auto s = model_.Apply(run); !s.ok()) return s;
    probe_.Applied(run.size(), model_.refused_events() - refused_before,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    bytes += run_bytes;
    begin = end;
  }
  return records->size();
}

absl::Status Projector::Start() {
  if (auto s = model_.BindToLog(log_.LogId()); !s.ok()) return s;
  auto end = log_.End();
  if (!end.ok()) return end.status();
  start_target_ = *end;
  log_end_ = end->value();
  caught_up_ = model_.applied() >= start_target_;
  probe_.CaughtUp(caught_up_);
  ReportPosition(false);
  auto reader = log_.OpenReader(model_.applied());
  if (!reader.ok()) return reader.status();
  stop_ = false;
  thread_ = std::thread([this, r = std::move(*reader)]() mutable { Run(std::move(r)); });
  return absl::OkStatus();
}

void Projector::ReportPosition(bool refresh_end) {
  if (refresh_end) {
    if (auto end = log_.End(); end.ok()) log_end_ = end->value();
  }
  const uint64_t applied = model_.applied().value();
  if (log_end_ < applied) log_end_ = applied;
  double lag_seconds = 0;
  if (log_end_ > applied && model_.last_recorded_ms() > 0) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    lag_seconds = std::max<int64_t>(0, now_ms - model_.last_recorded_ms()) / 1000.0;
  }
  probe_.Position(applied, log_end_, lag_seconds);
}

void Projector::Run(std::unique_ptr<eventlog::LogReader> reader) {
  uint64_t bytes = 0;
  auto last_end_check = std::chrono::steady_clock::now();
  while (!stop_) {
    auto applied = Step(*reader, options_.idle_wait, bytes);
    if (!applied.ok()) {
      std::cerr << "projection stopped at position " << model_.applied().value() << ": "
                << applied.status().message() << "\n";
      std::lock_guard lock(mu_);
      health_ = applied.status();
      return;
    }
    if (!caught_up_ && model_.applied() >= start_target_) {
      caught_up_ = true;
      probe_.CaughtUp(true);
    }
    // The log end costs a round trip on Kafka: ask at most once a second.
    const auto now = std::chrono::steady_clock::now();
    const bool refresh = now - last_end_check >= std::chrono::seconds(1);
    if (refresh) last_end_check = now;
    ReportPosition(refresh);
  }
}

void Projector::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

absl::Status Projector::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

absl::Status Projector::CatchUp(const std::function<void(const Progress&)>& progress,
                                std::chrono::milliseconds interval) {
  if (auto s = model_.BindToLog(log_.LogId()); !s.ok()) return s;
  auto target = log_.End();
  if (!target.ok()) return target.status();
  auto reader = log_.OpenReader(model_.applied());
  if (!reader.ok()) return reader.status();
  auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  LogPosition from = model_.applied();
  uint64_t bytes = 0;
  auto report = [&] {
    Progress p;
    p.applied = model_.applied();
    p.target = *target;
    p.events = p.applied.value() - from.value();
    p.bytes = bytes;
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    probe_.Rebuild(p.applied.value(), p.target.value());
    log_end_ = p.target.value();
    ReportPosition(false);
    if (progress) progress(p);
  };
  while (model_.applied() < *target) {
    auto applied = Step(**reader, std::chrono::milliseconds(1000), bytes);
    if (!applied.ok()) return applied.status();
    auto now = std::chrono::steady_clock::now();
    if (now - last_report >= interval) {
      report();
      last_report = now;
    }
  }
  report();
  caught_up_ = true;
  probe_.CaughtUp(true);
  return absl::OkStatus();
}

}  // namespace psc::projection
