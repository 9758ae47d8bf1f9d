#include "psc/projection/projector.h"

#include <iostream>

#include "psc/domain/strings.h"

namespace psc::projection {

Projector::Projector(ReadModel& model, eventlog::EventLog& log, ProjectorOptions options)
    : model_(model), log_(log), options_(options) {}

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
    if (auto s = model_.Apply(run); !s.ok()) return s;
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
  caught_up_ = model_.applied() >= start_target_;
  auto reader = log_.OpenReader(model_.applied());
  if (!reader.ok()) return reader.status();
  stop_ = false;
  thread_ = std::thread([this, r = std::move(*reader)]() mutable { Run(std::move(r)); });
  return absl::OkStatus();
}

void Projector::Run(std::unique_ptr<eventlog::LogReader> reader) {
  uint64_t bytes = 0;
  while (!stop_) {
    auto applied = Step(*reader, options_.idle_wait, bytes);
    if (!applied.ok()) {
      std::cerr << "projection stopped at position " << model_.applied().value() << ": "
                << applied.status().message() << "\n";
      std::lock_guard lock(mu_);
      health_ = applied.status();
      return;
    }
    if (!caught_up_ && model_.applied() >= start_target_) caught_up_ = true;
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
  return absl::OkStatus();
}

}  // namespace psc::projection
