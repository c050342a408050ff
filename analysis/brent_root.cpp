#include "brent_root.h"

#include <cmath>
#include <limits>

namespace canaryd::analysis {

double brentRoot(const std::function<double(double)>& f, double a, double b, double fa, double fb,
                 double tolerance, int maxIterations) {
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  if (fa == 0.0) return a;
  if (fb == 0.0) return b;
  // b is the best estimate, a the previous one, c the point with f(c) of the other sign.
  double c = a;
  double fc = fa;
  for (int iteration = 0; iteration <= maxIterations; ++iteration) {
    const double previousStep = b - a;
    if (std::fabs(fc) < std::fabs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const double actualTolerance = 2 * kEps * std::fabs(b) + tolerance / 2;
    double step = (c - b) / 2;  // bisection
    if (std::fabs(step) <= actualTolerance || fb == 0.0) return b;

    // Try interpolation when the previous step was large enough and went the right way.
    if (std::fabs(previousStep) >= actualTolerance && std::fabs(fa) > std::fabs(fb)) {
      const double cb = c - b;
      double p;
      double q;
      if (a == c) {  // two distinct points: secant
        const double t1 = fb / fa;
        p = cb * t1;
        q = 1.0 - t1;
      } else {  // inverse quadratic interpolation
        q = fa / fc;
        const double t1 = fb / fc;
        const double t2 = fb / fa;
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
      }
      if (p > 0) {
        q = -q;
      } else {
        p = -p;
      }
      // Accept the interpolated point when it falls inside [b, c] and is not too large.
      if (p < (0.75 * cb * q - std::fabs(actualTolerance * q) / 2) &&
          p < std::fabs(previousStep * q / 2)) {
        step = p / q;
      }
    }
    if (std::fabs(step) < actualTolerance) step = step > 0 ? actualTolerance : -actualTolerance;
    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}

}  // namespace canaryd::analysis
