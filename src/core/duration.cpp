#include "canaryd/core/duration.h"

#include <cstdint>
#include <limits>

namespace canaryd {
namespace {

constexpr std::string_view kAllowed =
    "expected a number and a unit (ns, us, ms, s, m, h), for example 30s, 1m30s, 500ms or 2h";

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Error invalid(std::string_view text, std::string_view why) {
  return Error::invalidInput("invalid duration \"" + std::string(text) + "\": " + std::string(why) +
                             "; " + std::string(kAllowed));
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration::zero();
  if (s.empty()) return invalid(text, "it is empty");

  // Accumulate in unsigned 64-bit nanoseconds; Go's limit is the int64 range.
  constexpr std::uint64_t kMax =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t total = 0;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    std::size_t digits = 0;
    while (!s.empty() && isDigit(s.front())) {
      if (whole > (kMax - 9) / 10) return invalid(text, "it is out of range");
      whole = whole * 10 + static_cast<std::uint64_t>(s.front() - '0');
      s.remove_prefix(1);
      ++digits;
    }
    // Fraction: keep up to 18 significant digits, which is more than nanoseconds need.
    std::uint64_t fraction = 0;
    std::uint64_t scale = 1;
    std::size_t fractionDigits = 0;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      while (!s.empty() && isDigit(s.front())) {
        if (scale < 1'000'000'000'000'000'000ULL) {
          fraction = fraction * 10 + static_cast<std::uint64_t>(s.front() - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
        ++fractionDigits;
      }
    }
    if (digits == 0 && fractionDigits == 0) return invalid(text, "a number is missing");

    std::size_t unitLength = 0;
    while (unitLength < s.size() && s[unitLength] != '.' && !isDigit(s[unitLength]))
      ++unitLength;
    std::string_view unitName = s.substr(0, unitLength);
    if (unitName.empty()) return invalid(text, "a unit is missing");
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unitName) unit = &u;
    }
    if (unit == nullptr) return invalid(text, "unknown unit \"" + std::string(unitName) + "\"");
    s.remove_prefix(unitLength);

    const auto per = static_cast<std::uint64_t>(unit->nanos);
    if (whole > kMax / per) return invalid(text, "it is out of range");
    std::uint64_t value = whole * per;
    if (fraction > 0) {
      // fraction/scale of a unit, in nanoseconds; long double keeps 64 bits of mantissa.
      value += static_cast<std::uint64_t>(static_cast<long double>(fraction) *
                                          static_cast<long double>(per) /
                                          static_cast<long double>(scale));
    }
    if (value > kMax || total > kMax - value) return invalid(text, "it is out of range");
    total += value;
  }
  auto signedTotal = static_cast<std::int64_t>(total);
  return Duration(negative ? -signedTotal : signedTotal);
}

namespace {

// Appends `value / 10^precision` with trailing zeros of the fraction removed.
void appendDecimal(std::string& out, std::uint64_t value, int precision) {
  std::uint64_t pow = 1;
  for (int i = 0; i < precision; ++i)
    pow *= 10;
  out += std::to_string(value / pow);
  std::uint64_t frac = value % pow;
  if (frac == 0) return;
  std::string digits = std::to_string(frac);
  digits.insert(0, static_cast<std::size_t>(precision) - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0')
    digits.pop_back();
  out += '.';
  out += digits;
}

}  // namespace

std::string formatDuration(Duration d) {
  std::int64_t n = d.count();
  if (n == 0) return "0s";
  std::string out;
  // Negate in unsigned arithmetic so that the minimum int64 is handled.
  std::uint64_t u = static_cast<std::uint64_t>(n);
  if (n < 0) {
    out += '-';
    u = ~u + 1;
  }
  if (u < 1'000'000'000ULL) {
    if (u < 1'000ULL) {
      out += std::to_string(u) + "ns";
    } else if (u < 1'000'000ULL) {
      appendDecimal(out, u, 3);
      out += "\xC2\xB5s";
    } else {
      appendDecimal(out, u, 6);
      out += "ms";
    }
    return out;
  }
  std::uint64_t secondsPart = u % 60'000'000'000ULL;  // seconds with nanosecond fraction
  std::uint64_t minutes = u / 60'000'000'000ULL;
  std::uint64_t hours = minutes / 60;
  minutes %= 60;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  appendDecimal(out, secondsPart, 9);
  out += "s";
  return out;
}

}  // namespace canaryd
