// The generator's PRNG: xoshiro256** seeded by splitmix64. Our own code, so a
// seed gives the same notes with any compiler or standard library (the
// std:: distributions are implementation-defined).
#ifndef PHIGATE_SRC_SYNTH_RNG_H_
#define PHIGATE_SRC_SYNTH_RNG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace phigate::synth::internal {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) s = SplitMix64(x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Lemire's multiply-shift (bias < 2^-32 for our n).
  size_t Below(size_t n) {
    return static_cast<size_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int Range(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<size_t>(hi - lo + 1)));
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }

  template <class C>
  const auto& Pick(const C& c) {
    return c[Below(std::size(c))];
  }

  char Digit() { return static_cast<char>('0' + Below(10)); }
  char NonZeroDigit() { return static_cast<char>('1' + Below(9)); }
  char Upper() { return static_cast<char>('A' + Below(26)); }
  void AppendDigits(size_t n, std::string* out) {
    for (size_t i = 0; i < n; ++i) out->push_back(Digit());
  }
  std::string Digits(size_t n) {
    std::string s;
    AppendDigits(n, &s);
    return s;
  }
  std::string Letters(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(Upper());
    return s;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace phigate::synth::internal

#endif  // PHIGATE_SRC_SYNTH_RNG_H_
