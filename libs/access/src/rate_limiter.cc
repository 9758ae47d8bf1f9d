#include "psc/access/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "psc/domain/strings.h"

namespace psc::access {

absl::Status RateLimiter::Take(const Principal& principal) {
  const double rate = principal.requests_per_second;
  if (rate <= 0) return absl::OkStatus();
  const double capacity = std::max(1.0, rate);
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto [it, added] = buckets_.try_emplace(principal.name, Bucket{capacity, now});
  Bucket& bucket = it->second;
  if (!added && now > bucket.refilled) {
    const double seconds = std::chrono::duration<double>(now - bucket.refilled).count();
    bucket.tokens = std::min(capacity, bucket.tokens + seconds * rate);
    bucket.refilled = now;
  }
  bucket.tokens = std::min(bucket.tokens, capacity);  // the rate may have fallen since
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::OkStatus();
  }
  const auto wait_ms = static_cast<long long>(std::ceil((1 - bucket.tokens) / rate * 1000));
  char shown[32];
  std::snprintf(shown, sizeof shown, "%g", rate);
  return absl::ResourceExhaustedError(StrCat("principal ", Quote(principal.name), " is over its ",
                                             shown, " requests per second; retry in ", wait_ms,
                                             " ms"));
}

}  // namespace psc::access
