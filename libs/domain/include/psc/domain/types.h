// Strong types for the numbers and names that must never be mixed up.
// Header-only, no I/O. Thread-safe as values.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace psc {

// A point in the one ordered event log: the number of events up to and
// including one event. 0 is "before the first event". An event's Kafka
// offset is its position - 1.
class LogPosition {
 public:
  constexpr LogPosition() = default;
  constexpr explicit LogPosition(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr LogPosition Next() const { return LogPosition(value_ + 1); }
  constexpr auto operator<=>(const LogPosition&) const = default;

 private:
  uint64_t value_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, LogPosition p) { return os << p.value(); }

// A string id that cannot be confused with another kind of id.
template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  explicit StrongId(std::string_view value) : value_(value) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string value_;
};

template <typename Tag>
std::ostream& operator<<(std::ostream& os, const StrongId<Tag>& id) {
  return os << id.str();
}

using MeasureId = StrongId<struct MeasureIdTag>;
using OrgCode = StrongId<struct OrgCodeTag>;
using CollaborativeId = StrongId<struct CollaborativeIdTag>;
using TopicId = StrongId<struct TopicIdTag>;

}  // namespace psc

template <typename Tag>
struct std::hash<psc::StrongId<Tag>> {
  size_t operator()(const psc::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.str());
  }
};
