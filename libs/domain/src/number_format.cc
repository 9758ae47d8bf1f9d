#include "psc/domain/number_format.h"

#include <algorithm>

namespace psc {
namespace {

using U128 = unsigned __int128;

U128 Magnitude(int64_t v) {
  // Negating INT64_MIN overflows int64; go through unsigned arithmetic.
  return v < 0 ? static_cast<U128>(-(static_cast<uint64_t>(v) + 1)) + 1
               : static_cast<U128>(static_cast<uint64_t>(v));
}

std::string Digits(U128 v, bool group) {
  std::string reversed;
  int count = 0;
  do {
    if (group && count > 0 && count % 3 == 0) reversed.push_back(',');
    reversed.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
    ++count;
  } while (v != 0);
  std::reverse(reversed.begin(), reversed.end());
  return reversed;
}

}  // namespace

std::string Integer(int64_t v, bool group) {
  std::string out = v < 0 ? "-" : "";
  out += Digits(Magnitude(v), group);
  return out;
}

std::string Quotient(int64_t numerator, int64_t factor, int64_t denominator, int decimals,
                     bool group) {
  const bool negative = (((numerator < 0) != (factor < 0)) != (denominator < 0)) &&
                        numerator != 0 && factor != 0;
  // |numerator x factor| < 2^126 and the remainder stays below the
  // denominator (< 2^63), so remainder x 10 never overflows 128 bits.
  const U128 n = Magnitude(numerator) * Magnitude(factor);
  const U128 d = Magnitude(denominator);
  U128 whole = n / d;
  U128 rest = n % d;
  U128 fraction = 0;
  U128 scale = 1;
  for (int i = 0; i < decimals; ++i) {
    rest *= 10;
    fraction = fraction * 10 + rest / d;
    rest %= d;
    scale *= 10;
  }
  if (rest * 2 >= d) {  // half or more of the last place: round up
    if (++fraction == scale) {
      fraction = 0;
      ++whole;
    }
  }
  std::string out;
  if (negative && (whole != 0 || fraction != 0)) out.push_back('-');
  out += Digits(whole, group);
  if (decimals > 0) {
    std::string digits = Digits(fraction, false);
    out.push_back('.');
    out.append(static_cast<size_t>(decimals) - digits.size(), '0');
    out += digits;
  }
  return out;
}

size_t Columns(std::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

namespace {

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

void AppendCsvLine(std::string* out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(CsvField(fields[i]));
  }
  out->append("\r\n");
}

}  // namespace psc
