#include "psc/domain/nhs_number.h"

#include <vector>

namespace psc {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSeparator(char c) { return c == ' ' || c == '-'; }

}  // namespace

bool IsValidNhsNumber(std::string_view d) {
  if (d.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) {
    if (!IsDigit(d[i])) return false;
    sum += (d[i] - '0') * (10 - i);
  }
  if (!IsDigit(d[9])) return false;
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return false;
  return check == d[9] - '0';
}

std::optional<std::string> FindNhsNumber(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i]) || (i > 0 && IsDigit(text[i - 1]))) {
      ++i;
      continue;
    }
    // A chain of digit groups joined by single separators, starting here.
    std::vector<std::string> groups;
    size_t j = i;
    while (j < text.size() && IsDigit(text[j])) {
      std::string group;
      while (j < text.size() && IsDigit(text[j])) group += text[j++];
      groups.push_back(std::move(group));
      if (j + 1 < text.size() && IsSeparator(text[j]) && IsDigit(text[j + 1])) {
        ++j;
      } else {
        break;
      }
    }
    for (size_t a = 0; a < groups.size(); ++a) {
      std::string digits;
      for (size_t b = a; b < groups.size() && digits.size() < 10; ++b) {
        digits += groups[b];
        if (digits.size() == 10 && IsValidNhsNumber(digits)) return digits;
      }
    }
    i = j + 1;
  }
  return std::nullopt;
}

}  // namespace psc
