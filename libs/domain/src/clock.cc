#include "psc/domain/clock.h"

#include <cstdint>

namespace psc {
namespace {

using std::chrono::seconds;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int& year, int& month, int& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(y + (month <= 2));
}

int64_t SecondsSinceEpoch(TimePoint t) {
  return std::chrono::floor<seconds>(t.time_since_epoch()).count();
}

// Day (1..31) of the last Sunday of a month.
int LastSunday(int year, int month) {
  int next_y = month == 12 ? year + 1 : year;
  int next_m = month == 12 ? 1 : month + 1;
  int64_t last_day = DaysFromCivil(next_y, next_m, 1) - 1;  // days since epoch
  // 1970-01-01 was a Thursday: weekday 0 = Sunday -> (days + 4) % 7.
  int64_t weekday = ((last_day + 4) % 7 + 7) % 7;
  int y, m, d;
  CivilFromDays(last_day - weekday, y, m, d);
  return d;
}

// True when BST is in force at the UTC instant `utc_seconds`.
bool IsBst(int64_t utc_seconds) {
  int y, m, d;
  CivilFromDays(utc_seconds >= 0 ? utc_seconds / 86400 : (utc_seconds - 86399) / 86400, y, m, d);
  int64_t start = DaysFromCivil(y, 3, LastSunday(y, 3)) * 86400 + 3600;
  int64_t end = DaysFromCivil(y, 10, LastSunday(y, 10)) * 86400 + 3600;
  return utc_seconds >= start && utc_seconds < end;
}

}  // namespace

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

TimePoint UtcTime(int year, int month, int day, int hour, int minute, int second) {
  int64_t s = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
              hour * 3600 + minute * 60 + second;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(seconds(s)));
}

LondonTime ToLondon(TimePoint t) {
  int64_t utc = SecondsSinceEpoch(t);
  bool bst = IsBst(utc);
  int64_t local = utc + (bst ? 3600 : 0);
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t secs = local - days * 86400;
  LondonTime out;
  CivilFromDays(days, out.year, out.month, out.day);
  out.hour = static_cast<int>(secs / 3600);
  out.minute = static_cast<int>(secs / 60 % 60);
  out.second = static_cast<int>(secs % 60);
  out.summer_time = bst;
  return out;
}

Month LondonMonth(TimePoint t) {
  LondonTime l = ToLondon(t);
  return Month::FromYearMonth(l.year, l.month);
}

TimePoint LondonMidnight(Month m, int day) {
  // Midnight local: try the GMT reading, then correct if BST is in force then.
  // (Changes happen at 01:00 UTC, never at local midnight, so this is exact.)
  int64_t local = (DaysFromCivil(m.year(), static_cast<unsigned>(m.month()), 1) + day - 1) * 86400;
  int64_t utc = IsBst(local - 3600) ? local - 3600 : local;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(seconds(utc)));
}

google::protobuf::Timestamp ToTimestamp(TimePoint t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(ns / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return ts;
}

}  // namespace psc
