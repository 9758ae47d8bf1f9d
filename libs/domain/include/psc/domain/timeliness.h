// When a monthly return is on time: its first accepted value arrived within
// the measure's number of days after the month ended, Europe/London.
#pragma once

#include "psc/domain/clock.h"
#include "psc/domain/period.h"
#include "psc/v1/catalog.pb.h"

namespace psc {

// The programme's default when a measure sets none.
inline constexpr int kDefaultOnTimeDays = 15;

// The first instant at which a first value for `month` is late: London
// midnight at the end of the last allowed day. With 15 days, a value for
// April is on time until 16 May 00:00 London time.
inline TimePoint OnTimeDeadline(const v1::Measure& measure, Month month) {
  const int days = measure.on_time_days() > 0 ? measure.on_time_days() : kDefaultOnTimeDays;
  return LondonMidnight(month.Plus(1), 1 + days);
}

}  // namespace psc
