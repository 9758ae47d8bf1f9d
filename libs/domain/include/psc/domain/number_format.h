// Exact number and CSV formatting for everything the service renders
// (reports, public CSV, progress lines). Values are formatted from integer
// sums, never from a double, so the digits do not depend on binary
// floating point or on the C library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// Decimal digits of `v`, with a comma every three digits when `group`:
// 1234567 -> "1,234,567".
std::string Integer(int64_t v, bool group);
// With thousands separators, for counts in messages people read.
inline std::string Grouped(uint64_t v) { return Integer(static_cast<int64_t>(v), true); }

// numerator x factor / denominator, rounded half away from zero to
// `decimals` places from the exact quotient: (4, 1000, 3000, 4) ->
// "1.3333"; (2, 3, 3, 1) -> "0.7" (0.666... rounds up). Exact for every
// int64 input. Requires denominator != 0 and 0 <= decimals <= 18.
std::string Quotient(int64_t numerator, int64_t factor, int64_t denominator, int decimals,
                     bool group);

// Number of terminal columns of UTF-8 text (one per code point).
size_t Columns(std::string_view utf8);

// Appends one RFC 4180 record: fields quoted when they hold a comma, quote,
// CR or LF (quotes doubled), CRLF at the end.
void AppendCsvLine(std::string* out, const std::vector<std::string>& fields);

}  // namespace psc
