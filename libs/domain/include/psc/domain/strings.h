// String building without surprises. (absl::StrCat is not used: the system
// Abseil has its own string_view type, distinct from std::string_view.)
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"

namespace psc {

namespace strings_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s); }
inline void Append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void Append(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// A double would otherwise convert to char and append one byte: format
// numbers with number_format.h (or printf) instead.
template <std::floating_point T>
void Append(std::string& out, T v) = delete;

}  // namespace strings_internal

// Concatenates strings, characters and integers.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (strings_internal::Append(out, args), ...);
  return out;
}

// Appends to `out`.
template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (strings_internal::Append(*out, args), ...);
}

// How much of a value an error message quotes (see Clip).
inline constexpr size_t kMaxQuoted = 64;

namespace strings_internal {

// The first kMaxQuoted bytes of `value`, never half a UTF-8 character
// (continuation bytes are 10xxxxxx), and how many characters it has.
inline std::pair<std::string_view, size_t> Clipped(std::string_view value) {
  size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  size_t characters = 0;
  for (unsigned char c : value) characters += (c & 0xC0) != 0x80 ? 1 : 0;
  return {value.substr(0, cut), characters};
}

}  // namespace strings_internal

// `value` as an error message shows it: whole when at most kMaxQuoted bytes,
// else its first kMaxQuoted bytes (never half a UTF-8 character), "...",
// and its length: "AAAA... (100000 characters)". Every message that echoes
// client input goes through Clip or Quote, so that a 100,000-character id
// cannot make an error too large for gRPC's trailers.
inline std::string Clip(std::string_view value) {
  if (value.size() <= kMaxQuoted) return std::string(value);
  auto [head, characters] = strings_internal::Clipped(value);
  return StrCat(head, "... (", characters, " characters)");
}

// `value` in single quotes, clipped as Clip does: 'RDZ', or
// 'AAAA...' (100000 characters).
inline std::string Quote(std::string_view value) {
  if (value.size() <= kMaxQuoted) return StrCat("'", value, "'");
  auto [head, characters] = strings_internal::Clipped(value);
  return StrCat("'", head, "...' (", characters, " characters)");
}

}  // namespace psc
