#include "psc/eventlog/random_id.h"

#include <random>

namespace psc::eventlog {

std::string RandomId() {
  thread_local std::random_device device;
  thread_local std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = engine();
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = kHex[(bits >> (4 * i)) & 0xf];
  }
  return out;
}

}  // namespace psc::eventlog
