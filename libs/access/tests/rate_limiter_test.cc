// The per-principal rate: bursts up to one second's worth, refills at the
// rate, principals apart, a policy edit in force at once.
#include "psc/access/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace psc::access {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;

Principal Named(const std::string& name, double rate) {
  Principal p;
  p.name = name;
  p.role = v1::ROLE_FEED;
  p.requests_per_second = rate;
  return p;
}

TEST(RateLimiterTest, BurstsOneSecondsWorthThenRefillsAtTheRate) {
  ManualClock clock(TimePoint(std::chrono::hours(24 * 365 * 55)));
  RateLimiter limiter(clock);
  const Principal feed = Named("feed-rx1", 4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take(feed).ok()) << i;
  absl::Status over = limiter.Take(feed);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over.message()),
              HasSubstr("principal 'feed-rx1' is over its 4 requests per second; retry in 250 ms"));
  // A refused call takes nothing: after a quarter second one more fits.
  clock.Set(clock.Now() + milliseconds(240));
  EXPECT_FALSE(limiter.Take(feed).ok());
  clock.Set(clock.Now() + milliseconds(20));
  EXPECT_TRUE(limiter.Take(feed).ok());
  EXPECT_FALSE(limiter.Take(feed).ok());
  // Idle for a minute, the bucket holds one second's worth, no more.
  clock.Set(clock.Now() + std::chrono::minutes(1));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take(feed).ok()) << i;
  EXPECT_FALSE(limiter.Take(feed).ok());
}

TEST(RateLimiterTest, PrincipalsHaveTheirOwnBucketsAndZeroIsUnlimited) {
  ManualClock clock(TimePoint(std::chrono::hours(1)));
  RateLimiter limiter(clock);
  const Principal a = Named("a", 1), b = Named("b", 1), national = Named("national", 0);
  EXPECT_TRUE(limiter.Take(a).ok());
  EXPECT_FALSE(limiter.Take(a).ok());
  EXPECT_TRUE(limiter.Take(b).ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Take(national).ok());
}

TEST(RateLimiterTest, ARateLoweredByAPolicyEditHoldsAtOnce) {
  ManualClock clock(TimePoint(std::chrono::hours(1)));
  RateLimiter limiter(clock);
  EXPECT_TRUE(limiter.Take(Named("portal", 100)).ok());  // 99 left at 100/s
  const Principal slowed = Named("portal", 2);
  EXPECT_TRUE(limiter.Take(slowed).ok());
  EXPECT_TRUE(limiter.Take(slowed).ok());
  EXPECT_FALSE(limiter.Take(slowed).ok()) << "the bucket is cut to the new second's worth";
}

}  // namespace
}  // namespace psc::access
