#include "codec.h"

namespace psc::projection::codec {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

void PutZigzag(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

bool GetZigzag(std::string_view& in, int64_t& v) {
  uint64_t u = 0;
  if (!GetVarint(in, u)) return false;
  v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

void PutU16(std::string& out, int v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

int GetU16(std::string_view in) {
  return (static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1]);
}

}  // namespace

std::string U64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::optional<uint64_t> ParseU64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string ObservationPrefix(std::string_view measure, std::string_view ods) {
  std::string key;
  key.reserve(measure.size() + ods.size() + 4);
  key.append(measure);
  key.push_back('\0');
  key.append(ods);
  key.push_back('\0');
  return key;
}

std::string ObservationKey(std::string_view measure, std::string_view ods, Month month) {
  std::string key = ObservationPrefix(measure, ods);
  PutU16(key, month.index());
  return key;
}

std::optional<Month> MonthOfObservationKey(std::string_view key) {
  if (key.size() < 2) return std::nullopt;
  return Month::FromIndex(GetU16(key.substr(key.size() - 2)));
}

std::optional<ObservationKeyParts> ParseObservationKey(std::string_view key) {
  size_t first = key.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  size_t second = key.find('\0', first + 1);
  if (second == std::string_view::npos || key.size() != second + 3) return std::nullopt;
  return ObservationKeyParts{key.substr(0, first), key.substr(first + 1, second - first - 1),
                             Month::FromIndex(GetU16(key.substr(second + 1)))};
}

std::string EncodeObservation(const ObservationValue& v) {
  std::string out;
  PutVarint(out, static_cast<uint64_t>(v.numerator));
  PutVarint(out, v.denominator ? static_cast<uint64_t>(*v.denominator) + 1 : 0);
  PutVarint(out, v.position);
  PutVarint(out, v.first_position);
  PutZigzag(out, v.first_recorded_ms);
  return out;
}

std::optional<ObservationValue> DecodeObservation(std::string_view in) {
  ObservationValue v;
  uint64_t num = 0, den = 0;
  if (!GetVarint(in, num) || !GetVarint(in, den) || !GetVarint(in, v.position) ||
      !GetVarint(in, v.first_position) || !GetZigzag(in, v.first_recorded_ms) || !in.empty()) {
    return std::nullopt;
  }
  v.numerator = static_cast<int64_t>(num);
  if (den > 0) v.denominator = static_cast<int64_t>(den - 1);
  return v;
}

std::string AggregateKey(std::string_view measure, Month month, std::string_view collaborative) {
  std::string key;
  key.reserve(measure.size() + collaborative.size() + 3);
  key.append(measure);
  key.push_back('\0');
  PutU16(key, month.index());
  key.append(collaborative);
  return key;
}

std::string QuarterKey(std::string_view measure, Quarter quarter, std::string_view collaborative) {
  std::string key;
  key.append(measure);
  key.push_back('\0');
  PutU16(key, quarter.index());
  key.append(collaborative);
  return key;
}

std::optional<PeriodKey> ParsePeriodKey(std::string_view key) {
  size_t nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() < nul + 3) return std::nullopt;
  PeriodKey out;
  out.measure = std::string(key.substr(0, nul));
  out.period = GetU16(key.substr(nul + 1, 2));
  out.collaborative = std::string(key.substr(nul + 3));
  return out;
}

std::string ReportingKey(Month month, std::string_view ods) {
  std::string key;
  PutU16(key, month.index());
  key.append(ods);
  return key;
}

std::optional<std::pair<Month, std::string_view>> ParseReportingKey(std::string_view key) {
  if (key.size() < 3) return std::nullopt;
  return std::make_pair(Month::FromIndex(GetU16(key)), key.substr(2));
}

std::string EncodeSums(const Sums& s) {
  std::string out;
  PutZigzag(out, s.numerator);
  PutZigzag(out, s.denominator);
  PutZigzag(out, s.reported);
  PutZigzag(out, s.on_time);
  return out;
}

std::optional<Sums> DecodeSums(std::string_view in) {
  Sums s;
  if (!GetZigzag(in, s.numerator) || !GetZigzag(in, s.denominator) ||
      !GetZigzag(in, s.reported) || !GetZigzag(in, s.on_time) || !in.empty()) {
    return std::nullopt;
  }
  return s;
}

std::string HistoryKey(std::string_view measure, std::string_view ods, Month month,
                       uint64_t position) {
  std::string key = ObservationKey(measure, ods, month);
  key.append(U64(position));
  return key;
}

std::string SignOffKey(Quarter quarter, std::string_view collaborative) {
  std::string key = U64(static_cast<uint64_t>(quarter.index()));
  key.append(collaborative);
  return key;
}

std::string SpcLimitsPrefix(std::string_view measure, std::string_view collaborative,
                            std::string_view ods) {
  std::string key(measure);
  key.push_back('\0');
  if (!collaborative.empty()) {
    key.push_back('c');
    key.append(collaborative);
  } else if (!ods.empty()) {
    key.push_back('o');
    key.append(ods);
  } else {
    key.push_back('n');
  }
  key.push_back('\0');
  return key;
}

std::string RequestKey(char kind, std::string_view id) {
  std::string key(1, kind);
  key.append(id);
  return key;
}

}  // namespace psc::projection::codec
