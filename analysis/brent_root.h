// Brent's root finder, step for step as in Brent (1973) and the zeroin routine R's uniroot()
// runs, so that the rank-sum estimate and interval land where R's do even when the function
// is flat at zero over an interval (which a step function often is). Internal to analysis/.
#pragma once

#include <functional>

namespace canaryd::analysis {

// Finds x in [a, b] with f(x) = 0 given fa = f(a) and fb = f(b) of opposite signs (or zero),
// to within `tolerance`, in at most `maxIterations` steps.
double brentRoot(const std::function<double(double)>& f, double a, double b, double fa, double fb,
                 double tolerance, int maxIterations = 1000);

}  // namespace canaryd::analysis
