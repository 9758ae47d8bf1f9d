#include "psc/domain/ids.h"

namespace psc {
namespace {

template <typename Pred>
bool AllOf(std::string_view s, size_t min, size_t max, Pred ok) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool Lower(char c) { return c >= 'a' && c <= 'z'; }
bool Upper(char c) { return c >= 'A' && c <= 'Z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsValidClientId(std::string_view id) {
  return AllOf(id, 1, 128, [](char c) {
    return Lower(c) || Upper(c) || Digit(c) || c == '.' || c == '_' || c == ':' || c == '-';
  });
}

bool IsValidSlug(std::string_view id) {
  return AllOf(id, 1, 40, [](char c) { return Lower(c) || Digit(c) || c == '-'; });
}

bool IsValidMeasureId(std::string_view id) {
  return AllOf(id, 1, 60, [](char c) { return Lower(c) || Digit(c) || c == '.' || c == '-'; }) &&
         (Lower(id[0]) || Digit(id[0]));
}

bool IsValidOdsCode(std::string_view code) {
  return AllOf(code, 3, 10, [](char c) { return Upper(c) || Digit(c); });
}

}  // namespace psc
