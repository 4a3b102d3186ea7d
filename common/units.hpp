#pragma once
// Strong unit types. A Quantity carries its dimension in its type so that bytes cannot be added to
// seconds by accident; the value is always in SI base units (bytes, seconds, FLOP/s, bytes/s, watts).
#include <cmath>
#include <compare>

namespace clustersim {

template <class Tag>
struct Quantity {
  double value = 0.0;

  constexpr Quantity() = default;
  constexpr explicit Quantity(double v) : value(v) {}

  constexpr Quantity& operator+=(Quantity o) { value += o.value; return *this; }
  constexpr Quantity& operator-=(Quantity o) { value -= o.value; return *this; }
  constexpr Quantity& operator*=(double k) { value *= k; return *this; }
  constexpr Quantity& operator/=(double k) { value /= k; return *this; }
  friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity(a.value + b.value); }
  friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity(a.value - b.value); }
  friend constexpr Quantity operator*(Quantity a, double k) { return Quantity(a.value * k); }
  friend constexpr Quantity operator*(double k, Quantity a) { return Quantity(a.value * k); }
  friend constexpr Quantity operator/(Quantity a, double k) { return Quantity(a.value / k); }
  friend constexpr double operator/(Quantity a, Quantity b) { return a.value / b.value; }
  friend constexpr auto operator<=>(Quantity a, Quantity b) = default;
};

struct BytesTag {};
struct SecondsTag {};
struct FlopRateTag {};
struct ByteRateTag {};
struct WattsTag {};

using Bytes = Quantity<BytesTag>;        // bytes
using Seconds = Quantity<SecondsTag>;    // seconds
using FlopRate = Quantity<FlopRateTag>;  // floating-point operations per second
using ByteRate = Quantity<ByteRateTag>;  // bytes per second (one direction unless stated)
using Watts = Quantity<WattsTag>;

// Dimensional results that come up everywhere in the cost model.
constexpr Seconds operator/(Bytes b, ByteRate r) { return Seconds(b.value / r.value); }
constexpr Bytes operator*(ByteRate r, Seconds t) { return Bytes(r.value * t.value); }

inline constexpr double kKiB = 1024.0;
inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
inline constexpr double kGB = 1e9;
inline constexpr double kTera = 1e12;

constexpr Bytes gib(double v) { return Bytes(v * kGiB); }
constexpr Bytes mib(double v) { return Bytes(v * kMiB); }
constexpr Bytes gigabytes(double v) { return Bytes(v * kGB); }
constexpr ByteRate gigabytes_per_s(double v) { return ByteRate(v * kGB); }
constexpr FlopRate teraflops(double v) { return FlopRate(v * kTera); }
constexpr Seconds microseconds(double v) { return Seconds(v * 1e-6); }

}  // namespace clustersim
