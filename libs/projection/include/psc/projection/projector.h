// Keeps a read model folding its log: reads events from the position the
// read model has applied and hands them to ReadModel::Apply in runs of
// bounded size. The position lives only in the read model, never in the log
// (no consumer group).
//
// Thread-safety: Start/Stop from one thread; health() and caught_up() from
// any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "psc/eventlog/event_log.h"
#include "psc/projection/probe.h"
#include "psc/projection/read_model.h"

namespace psc::projection {

struct ProjectorOptions {
  // Events asked of the log per read.
  size_t max_events_per_read = 512;
  // Payload bytes folded into one WriteBatch at most (one run may exceed it
  // by one event).
  size_t max_bytes_per_apply = 2u << 20;
  // How long one read waits for new events when the log is idle.
  std::chrono::milliseconds idle_wait{100};
  // Where the projection's metrics register (ProjectionProbe); null: not
  // served.
  prometheus::Registry* metrics = nullptr;
};

struct Progress {
  LogPosition applied;
  LogPosition target;
  uint64_t events = 0;   // applied in this run
  uint64_t bytes = 0;    // payload bytes applied in this run
  double seconds = 0;    // since the run started
};

class Projector {
 public:
  Projector(ReadModel& model, eventlog::EventLog& log, ProjectorOptions options = {});
  ~Projector();

  // Checks the read model belongs to this log, then folds in a background
  // thread until Stop(). An error while folding stops the thread; health()
  // then reports it.
  absl::Status Start();
  void Stop();
  // OK while folding (or stopped on request); the error that stopped it
  // otherwise.
  absl::Status health() const;
  // True once the log end seen at Start() has been applied.
  bool caught_up() const { return caught_up_.load(); }

  // Folds, in the calling thread, until the log end as it stands now is
  // applied; calls `progress` about every `interval` and once at the end.
  // For rebuilds and tools (the probe reports it as a rebuild). Do not mix
  // with Start().
  absl::Status CatchUp(const std::function<void(const Progress&)>& progress,
                       std::chrono::milliseconds interval);

 private:
  // Reads once and applies what came; returns the events applied.
  absl::StatusOr<size_t> Step(eventlog::LogReader& reader, std::chrono::milliseconds wait,
                              uint64_t& bytes);
  void Run(std::unique_ptr<eventlog::LogReader> reader);
  // Tells the probe where the read model stands; asks the log for its end
  // when `refresh_end` (the answer is kept for the next calls).
  void ReportPosition(bool refresh_end);

  ReadModel& model_;
  eventlog::EventLog& log_;
  ProjectorOptions options_;
  ProjectionProbe probe_;
  uint64_t log_end_ = 0;  // last log end seen (projector thread only)
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  LogPosition start_target_;
  mutable std::mutex mu_;
  absl::Status health_;
};

}  // namespace psc::projection
