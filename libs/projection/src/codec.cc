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

std::string OrgMonthPrefix(std::string_view ods) {
  std::string key;
  key.reserve(ods.size() + 3);
  key.append(ods);
  key.push_back('\0');
  return key;
}

std::string OrgMonthKey(std::string_view ods, Month month) {
  std::string key = OrgMonthPrefix(ods);
  PutU16(key, month.index());
  return key;
}

std::optional<std::pair<std::string_view, Month>> ParseOrgMonthKey(std::string_view key) {
  if (key.size() < 3 || key[key.size() - 3] != '\0') return std::nullopt;
  return std::make_pair(key.substr(0, key.size() - 3),
                        Month::FromIndex(GetU16(key.substr(key.size() - 2))));
}

namespace {

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

bool GetString(std::string_view& in, std::string_view& s) {
  uint64_t size = 0;
  if (!GetVarint(in, size) || size > in.size()) return false;
  s = in.substr(0, size);
  in.remove_prefix(size);
  return true;
}

void PutValue(std::string& out, const ObservationValue& v) {
  PutVarint(out, static_cast<uint64_t>(v.numerator));
  PutVarint(out, v.denominator ? static_cast<uint64_t>(*v.denominator) + 1 : 0);
  PutVarint(out, v.position);
  PutVarint(out, v.first_position);
  PutZigzag(out, v.first_recorded_ms);
}

bool GetValue(std::string_view& in, ObservationValue& v) {
  uint64_t num = 0, den = 0;
  if (!GetVarint(in, num) || !GetVarint(in, den) || !GetVarint(in, v.position) ||
      !GetVarint(in, v.first_position) || !GetZigzag(in, v.first_recorded_ms)) {
    return false;
  }
  v.numerator = static_cast<int64_t>(num);
  v.denominator.reset();
  if (den > 0) v.denominator = static_cast<int64_t>(den - 1);
  return true;
}

void PutSums(std::string& out, const Sums& s) {
  PutZigzag(out, s.numerator);
  PutZigzag(out, s.denominator);
  PutZigzag(out, s.reported);
  PutZigzag(out, s.on_time);
}

bool GetSums(std::string_view& in, Sums& s) {
  return GetZigzag(in, s.numerator) && GetZigzag(in, s.denominator) &&
         GetZigzag(in, s.reported) && GetZigzag(in, s.on_time);
}

}  // namespace

std::string EncodeOrgMonth(const MeasureValues& values) {
  std::string out;
  out.reserve(values.size() * 24);
  for (const auto& [measure, value] : values) {
    PutString(out, measure);
    PutValue(out, value);
  }
  return out;
}

bool DecodeOrgMonth(std::string_view in, MeasureValues* out) {
  out->clear();
  while (!in.empty()) {
    std::string_view measure;
    ObservationValue value;
    if (!GetString(in, measure) || !GetValue(in, value)) return false;
    out->emplace_back(measure, value);
  }
  return true;
}

bool FindInOrgMonth(std::string_view in, std::string_view measure,
                    std::optional<ObservationValue>* out) {
  out->reset();
  while (!in.empty()) {
    std::string_view id;
    ObservationValue value;
    if (!GetString(in, id) || !GetValue(in, value)) return false;
    if (id == measure) {
      *out = value;
      return true;
    }
    if (id > measure) return true;  // sorted: it is not there
  }
  return true;
}

std::string PeriodKey(int period, std::string_view collaborative) {
  std::string key;
  key.reserve(collaborative.size() + 2);
  PutU16(key, period);
  key.append(collaborative);
  return key;
}

std::optional<std::pair<int, std::string_view>> ParsePeriodKey(std::string_view key) {
  if (key.size() < 2) return std::nullopt;
  return std::make_pair(GetU16(key), key.substr(2));
}

std::string EncodeMeasureSums(const MeasureSums& sums) {
  std::string out;
  out.reserve(sums.size() * 16);
  for (const auto& [measure, s] : sums) {
    PutString(out, measure);
    PutSums(out, s);
  }
  return out;
}

bool DecodeMeasureSums(std::string_view in, MeasureSums* out) {
  out->clear();
  while (!in.empty()) {
    std::string_view measure;
    Sums s;
    if (!GetString(in, measure) || !GetSums(in, s)) return false;
    out->emplace_back(measure, s);
  }
  return true;
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

std::string HistoryKey(std::string_view ods, Month month, uint64_t position) {
  std::string key = OrgMonthKey(ods, month);
  key.append(U64(position));
  return key;
}

namespace {
constexpr uint64_t kHasValue = 1;
constexpr uint64_t kValueDenominator = 2;
constexpr uint64_t kHasPrevious = 4;
constexpr uint64_t kPreviousDenominator = 8;
}  // namespace

std::string EncodeHistory(std::string_view shared, const std::vector<MeasureChange>& changes) {
  std::string out;
  out.reserve(shared.size() + changes.size() * 20);
  PutString(out, shared);
  for (const MeasureChange& c : changes) {
    PutString(out, c.measure);
    uint64_t flags = 0;
    if (c.value) flags |= kHasValue | (c.value->denominator ? kValueDenominator : 0);
    if (c.previous) flags |= kHasPrevious | (c.previous->denominator ? kPreviousDenominator : 0);
    PutVarint(out, flags);
    if (c.value) {
      PutZigzag(out, c.value->numerator);
      if (c.value->denominator) PutZigzag(out, *c.value->denominator);
    }
    if (c.previous) {
      PutZigzag(out, c.previous->numerator);
      if (c.previous->denominator) PutZigzag(out, *c.previous->denominator);
    }
  }
  return out;
}

bool FindInHistory(std::string_view in, std::string_view measure, uint64_t position,
                   std::optional<v1::ValueChange>* out) {
  out->reset();
  std::string_view shared;
  if (!GetString(in, shared)) return false;
  while (!in.empty()) {
    std::string_view id;
    uint64_t flags = 0;
    if (!GetString(in, id) || !GetVarint(in, flags)) return false;
    int64_t fields[4] = {0, 0, 0, 0};
    const uint64_t present[4] = {kHasValue, kValueDenominator, kHasPrevious, kPreviousDenominator};
    for (int i = 0; i < 4; ++i) {
      if ((flags & present[i]) != 0 && !GetZigzag(in, fields[i])) return false;
    }
    if (id != measure) continue;
    v1::ValueChange change;
    if (!change.ParseFromArray(shared.data(), static_cast<int>(shared.size()))) return false;
    change.set_position(position);
    if (flags & kHasValue) {
      change.set_numerator(fields[0]);
      if (flags & kValueDenominator) change.set_denominator(fields[1]);
    }
    if (flags & kHasPrevious) {
      change.set_previous_numerator(fields[2]);
      if (flags & kPreviousDenominator) change.set_previous_denominator(fields[3]);
    }
    *out = std::move(change);
    return true;
  }
  return true;
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
