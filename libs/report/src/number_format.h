// Exact number formatting for the renderers. Values are formatted from
// integer sums, never from a double, so the digits do not depend on binary
// floating point or on the C library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace psc::report::internal {

// Decimal digits of `v`, with a comma every three digits when `group`:
// 1234567 -> "1,234,567".
std::string Integer(int64_t v, bool group);

// numerator x factor / denominator, rounded half away from zero to
// `decimals` places from the exact quotient: (4, 1000, 3000, 4) ->
// "1.3333"; (2, 3, 3, 1) -> "0.7" (0.666... rounds up). Exact for every
// int64 input. Requires denominator != 0 and 0 <= decimals <= 18.
std::string Quotient(int64_t numerator, int64_t factor, int64_t denominator, int decimals,
                     bool group);

// Number of terminal columns of UTF-8 text (one per code point).
size_t Columns(std::string_view utf8);

}  // namespace psc::report::internal
