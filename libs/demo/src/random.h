// Random draws that are the same on every platform. std::mt19937_64's
// output sequence is fixed by the C++ standard; the standard distributions
// are not (each library implements them its own way), so these helpers turn
// raw outputs into numbers with plain IEEE arithmetic only: no log, exp or
// trigonometry, whose last bit may differ between C libraries.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace psc::demo::internal {

// Independent streams, one per purpose, so that changing one option (say,
// the gap rate) leaves every other draw of the dataset as it was.
enum class Stream : uint64_t {
  kCatalogue = 1,
  kValues = 2,
  kGaps = 3,
  kCorrections = 4,
  kResends = 5,
  kArrival = 6,
  kLearning = 7,
};

class Rng {
 public:
  Rng(uint64_t seed, Stream stream) : engine_(Mix(seed, static_cast<uint64_t>(stream))) {}

  uint64_t Next() { return engine_(); }
  // Skips `n` draws, as if Next() had been called n times.
  void Discard(uint64_t n) { engine_.discard(n); }

  // Uniform in [0, 1), from the top 53 bits.
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // Uniform integer in [lo, hi] (multiply-shift: no modulo bias worth the
  // name, no rejection loop).
  int64_t UniformInt(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    const unsigned __int128 wide = static_cast<unsigned __int128>(engine_()) * span;
    return lo + static_cast<int64_t>(static_cast<uint64_t>(wide >> 64));
  }

  // True with probability p.
  bool Chance(double p) { return Uniform() < p; }

  // Approximately standard normal: the sum of four uniforms, centred and
  // scaled to variance 1 (bounded at +-3.46, which suits plausible data).
  double Normal() {
    const double sum = Uniform() + Uniform() + Uniform() + Uniform();
    return (sum - 2.0) * 1.7320508075688772;  // sqrt(12 / 4)
  }

  // Fisher-Yates, with our own draws (std::shuffle's algorithm is not
  // specified).
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(UniformInt(0, static_cast<int64_t>(i) - 1));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  // SplitMix64 finaliser over seed and stream: well-spread engine seeds.
  static uint64_t Mix(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + stream * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::mt19937_64 engine_;
};

}  // namespace psc::demo::internal
