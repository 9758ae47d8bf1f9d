#include "psc/eventlog/memory_log.h"

#include "psc/domain/strings.h"

namespace psc::eventlog {

class MemoryLogReader final : public LogReader {
 public:
  MemoryLogReader(MemoryLog* log, LogPosition after) : log_(log), next_(after.value() + 1) {}

  absl::StatusOr<std::vector<Record>> Read(size_t max_events,
                                           std::chrono::milliseconds wait) override {
    std::unique_lock lock(log_->mu_);
    auto end = [&] { return log_->first_ + log_->events_.size(); };
    log_->appended_.wait_for(lock, wait, [&] { return end() >= next_; });
    if (next_ <= log_->first_) {
      return absl::OutOfRangeError(StrCat("position ", next_, " is no longer on the log (oldest is ",
                                          log_->first_ + 1, ")"));
    }
    std::vector<Record> out;
    while (next_ <= end() && out.size() < max_events) {
      out.push_back({LogPosition(next_), log_->events_[next_ - log_->first_ - 1]});
      ++next_;
    }
    return out;
  }

 private:
  MemoryLog* log_;
  uint64_t next_;
};

absl::StatusOr<LogPosition> MemoryLog::Append(std::string_view, std::string payload) {
  std::lock_guard lock(mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    return absl::UnavailableError("memory log: append failed on request");
  }
  events_.push_back(std::move(payload));
  appended_.notify_all();
  return LogPosition(first_ + events_.size());
}

absl::StatusOr<LogPosition> MemoryLog::End() {
  std::lock_guard lock(mu_);
  return LogPosition(first_ + events_.size());
}

absl::StatusOr<std::unique_ptr<LogReader>> MemoryLog::OpenReader(LogPosition after) {
  return std::make_unique<MemoryLogReader>(this, after);
}

void MemoryLog::FailNextAppends(int n) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
}

void MemoryLog::DropThrough(LogPosition position) {
  std::lock_guard lock(mu_);
  while (first_ < position.value() && !events_.empty()) {
    events_.pop_front();
    ++first_;
  }
}

std::vector<std::string> MemoryLog::Payloads() const {
  std::lock_guard lock(mu_);
  return {events_.begin(), events_.end()};
}

}  // namespace psc::eventlog
