// NHS numbers in free text. An NHS number is 10 digits whose last digit is a
// modulus-11 check digit over the first nine (weights 10 down to 2). Text
// that holds one must not enter the log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace psc {

// Whether 10 digits form a valid NHS number.
bool IsValidNhsNumber(std::string_view ten_digits);

// The first NHS number found in `text`, as its 10 digits. Digits may be
// grouped by single spaces or dashes ("943 476 5919", "943-476-5919");
// any run of consecutive groups holding exactly 10 digits is checked.
std::optional<std::string> FindNhsNumber(std::string_view text);

}  // namespace psc
