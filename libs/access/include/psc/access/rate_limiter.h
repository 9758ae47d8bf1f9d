// Per-principal request rate: a token bucket per principal name, holding
// one second's worth of requests (at least one) and refilled at the
// principal's rate. The rate is read from the principal on every call, so a
// policy edit takes effect at once.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "psc/access/policy.h"
#include "psc/domain/clock.h"

namespace psc::access {

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  // OK and one request taken from the principal's bucket, or
  // RESOURCE_EXHAUSTED naming the principal, its rate and when to retry
  // (nothing taken). A principal with rate 0 is never limited.
  absl::Status Take(const Principal& principal);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint refilled;
  };
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace psc::access
