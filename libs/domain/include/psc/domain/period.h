// Calendar months and NHS financial quarters. Pure values, no I/O.
//
// A Month is written `YYYY-MM`. NHS financial years run April to March and
// are named by their two calendar years: `2024/25` is April 2024 to March
// 2025. Its quarters: Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar, named
// `2024/25 Q1`.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace psc {

class Month {
 public:
  // Earliest and latest months the service accepts.
  static constexpr int kMinYear = 2000;
  static constexpr int kMaxYear = 2199;

  constexpr Month() = default;
  static constexpr Month FromYearMonth(int year, int month) {
    return Month(year * 12 + (month - 1));
  }
  // Parses exactly `YYYY-MM` with 01..12 and a year in [kMinYear, kMaxYear].
  static std::optional<Month> Parse(std::string_view text);
  // Months since year 0, for compact keys and arithmetic.
  static constexpr Month FromIndex(int index) { return Month(index); }

  constexpr int index() const { return index_; }
  constexpr int year() const { return index_ / 12; }
  constexpr int month() const { return index_ % 12 + 1; }
  constexpr Month Plus(int months) const { return Month(index_ + months); }
  constexpr int MonthsUntil(Month later) const { return later.index_ - index_; }
  std::string ToString() const;

  constexpr auto operator<=>(const Month&) const = default;

 private:
  constexpr explicit Month(int index) : index_(index) {}
  int index_ = 0;
};

class Quarter {
 public:
  constexpr Quarter() = default;
  // `fy_start_year` is the calendar year the financial year starts in
  // (2024 for 2024/25); `number` is 1..4.
  static constexpr Quarter Of(int fy_start_year, int number) {
    return Quarter(fy_start_year, number);
  }
  // The quarter a month falls in.
  static constexpr Quarter Containing(Month m) {
    int fy = m.month() >= 4 ? m.year() : m.year() - 1;
    int q = ((m.month() + 8) % 12) / 3 + 1;  // Apr..Jun -> 1, Jan..Mar -> 4
    return Quarter(fy, q);
  }
  // Parses `2024/25 Q1` (the second year must follow the first).
  static std::optional<Quarter> Parse(std::string_view text);

  constexpr int fy_start_year() const { return fy_; }
  constexpr int number() const { return q_; }
  constexpr Month FirstMonth() const { return Month::FromYearMonth(fy_, 4).Plus(3 * (q_ - 1)); }
  constexpr Month LastMonth() const { return FirstMonth().Plus(2); }
  constexpr bool Contains(Month m) const { return m >= FirstMonth() && m <= LastMonth(); }
  // A dense number, for keys: consecutive quarters differ by 1.
  constexpr int index() const { return fy_ * 4 + (q_ - 1); }
  static constexpr Quarter FromIndex(int index) { return Quarter(index / 4, index % 4 + 1); }
  std::string ToString() const;

  constexpr auto operator<=>(const Quarter&) const = default;

 private:
  constexpr Quarter(int fy, int q) : fy_(fy), q_(q) {}
  int fy_ = 0;
  int q_ = 1;
};

}  // namespace psc
