#include "psc/domain/period.h"

#include <cstdio>

namespace psc {
namespace {

bool ParseDigits(std::string_view text, int& out) {
  if (text.empty()) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<Month> Month::Parse(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int y = 0, m = 0;
  if (!ParseDigits(text.substr(0, 4), y) || !ParseDigits(text.substr(5, 2), m)) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || y < kMinYear || y > kMaxYear) return std::nullopt;
  return FromYearMonth(y, m);
}

std::string Month::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year(), month());
  return buf;
}

std::optional<Quarter> Quarter::Parse(std::string_view text) {
  // "2024/25 Q1"
  if (text.size() != 10 || text[4] != '/' || text[7] != ' ' || text[8] != 'Q') {
    return std::nullopt;
  }
  int y = 0, y2 = 0, q = 0;
  if (!ParseDigits(text.substr(0, 4), y) || !ParseDigits(text.substr(5, 2), y2) ||
      !ParseDigits(text.substr(9, 1), q)) {
    return std::nullopt;
  }
  if (q < 1 || q > 4 || (y + 1) % 100 != y2) return std::nullopt;
  if (y < Month::kMinYear || y > Month::kMaxYear) return std::nullopt;
  return Quarter(y, q);
}

std::string Quarter::ToString() const {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04d/%02d Q%d", fy_, (fy_ + 1) % 100, q_);
  return buf;
}

}  // namespace psc
