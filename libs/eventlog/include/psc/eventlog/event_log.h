// The event log: one totally ordered sequence of immutable events (DESIGN
// invariant 0). Two real backends implement it: the embedded journal
// (RocksDB, journal.h) and Kafka (one topic, one partition; kafka_log.h).
// MemoryLog (memory_log.h) implements it fully in memory for unit tests.
//
// Positions: the position of an event is the number of events up to and
// including it, so the first event is at 1 and "after 0" means from the
// start. Readers keep their position themselves (never a consumer group).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/domain/types.h"

namespace psc::eventlog {

// One event as read back from the log.
struct Record {
  LogPosition position;
  std::string payload;  // a serialized psc.v1.Envelope
};

// Reads the log forward from a position. Not thread-safe: one reader per
// thread. Destroying it releases its resources.
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Returns the next events in log order, continuing right after the last
  // one returned (or the position the reader was opened after). Waits up to
  // `wait` for the first one; an empty result means none arrived in time.
  // Returns at most `max_events`. Errors are final for this reader:
  //   OUT_OF_RANGE  the next event is no longer on the log (retention or a
  //                 truncated log): the reader must not skip ahead;
  //   UNAVAILABLE   the log could not be reached.
  virtual absl::StatusOr<std::vector<Record>> Read(size_t max_events,
                                                   std::chrono::milliseconds wait) = 0;
};

// Thread-safe.
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends one event and returns its position once it is durable (journal:
  // synced to disk; Kafka: acknowledged by all in-sync replicas). Concurrent
  // calls may share one sync (group commit). `key` labels the event (the
  // request id) where the backend keeps one. On error the event may or may
  // not be on the log; the caller answers an error and the client retries
  // with the same request id, which the fold then recognises.
  virtual absl::StatusOr<LogPosition> Append(std::string_view key, std::string payload) = 0;

  // Position of the last durable event, 0 when the log is empty.
  virtual absl::StatusOr<LogPosition> End() = 0;

  // Opens a reader returning the events after `after`.
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(LogPosition after) = 0;

  // Identity of this log, stable for its lifetime: a read model records it
  // and refuses to continue on a different log, where its position would
  // mean something else.
  virtual std::string LogId() const = 0;

  // For people: "journal /var/lib/psc/journal", "kafka localhost:9092/psc.events".
  virtual std::string Describe() const = 0;
};

}  // namespace psc::eventlog
