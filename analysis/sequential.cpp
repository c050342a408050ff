#include "canaryd/analysis/sequential.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <Eigen/Core>

#include "canaryd/core/text.h"

namespace canaryd::analysis {
namespace {

using Grid = Eigen::Array<double, BernoulliMixture::kGrid, 1>;

// Odds multipliers of the alternatives: from a 10% change to a 20-fold one, equally weighted.
constexpr std::array<double, BernoulliMixture::kGrid> kFactors = {1.1, 1.25, 1.5, 2, 3, 5, 10, 20};

std::string percent(double fraction) {
  return formatNumber(std::round(fraction * 1e4) / 1e2) + "%";
}

}  // namespace

BernoulliMixture::BernoulliMixture(bool upward) {
  for (int g = 0; g < kGrid; ++g) {
    logOddsFactor_[static_cast<std::size_t>(g)] =
        (upward ? 1 : -1) * std::log(kFactors[static_cast<std::size_t>(g)]);
  }
}

void BernoulliMixture::add(double hits, double trials, double p0) {
  if (trials <= 0 || !(p0 > 0 && p0 < 1)) return;
  // With odds o0 = p0/(1-p0) and o1 = f o0: log LR = hits log f + trials log((1-p1)/(1-p0)),
  // and (1-p1)/(1-p0) = 1 / (1 - p0 + f p0).
  Eigen::Map<const Grid> logFactor(logOddsFactor_.data());
  Eigen::Map<Grid> llr(logLikelihoodRatio_.data());
  const Grid factor = logFactor.exp();
  llr += hits * logFactor - trials * ((1 - p0) + p0 * factor).log();
}

double BernoulliMixture::logEValue(double temper) const {
  const Grid llr = Eigen::Map<const Grid>(logLikelihoodRatio_.data()) / temper;
  const double top = llr.maxCoeff();
  return top + std::log((llr - top).exp().sum() / kGrid);
}

double BernoulliMixture::eValue(double temper) const {
  return std::exp(logEValue(temper));
}

double BernoulliMixture::projectedLogEValue(double trials, double p0, double p1, double z,
                                            double temper) const {
  if (trials <= 0 || !(p0 > 0 && p0 < 1) || !(p1 >= 0 && p1 <= 1)) return 0;
  Eigen::Map<const Grid> logFactor(logOddsFactor_.data());
  // Per outcome, alternative g adds X log f - log(1 - p0 + p0 f), X ~ Bernoulli(p1).
  const Grid mean = p1 * logFactor - ((1 - p0) + p0 * logFactor.exp()).log();
  const Grid spread = (p1 * (1 - p1) * logFactor.square()).sqrt();
  const Grid low = trials * mean - z * std::sqrt(trials) * spread;
  return low.maxCoeff() / temper - std::log(static_cast<double>(kGrid));
}

namespace {

// fail when the fail side's e-value reaches 1/alpha, pass when the pass side's does.
Verdict decide(const BernoulliMixture& fail, const BernoulliMixture& pass, double alpha,
               double temper = 1) {
  const double logThreshold = -std::log(alpha);
  if (fail.logEValue(temper) >= logThreshold) return Verdict::kFail;
  if (pass.logEValue(temper) >= logThreshold) return Verdict::kPass;
  return Verdict::kInconclusive;
}

bool decided(Verdict v) {
  return v == Verdict::kFail || v == Verdict::kPass;
}

// Fills verdict, direction, e-value and the explanation's tail for a two-sided e-process.
void describe(Judgement& j, Verdict state, Verdict last, const BernoulliMixture& fail,
              const BernoulliMixture& pass, double alpha, const std::string& what,
              const std::string& passWords, double temper = 1) {
  const double threshold = 1 / alpha;
  const double failE = fail.eValue(temper);
  const double passE = pass.eValue(temper);
  j.verdict = last == Verdict::kNoData ? Verdict::kNoData : state;
  j.evidence.threshold = threshold;
  if (state == Verdict::kFail) {
    j.direction = Direction::kHigh;
    j.evidence.eValue = failE;
    j.evidence.explanation =
        what + "; e-value " + formatNumber(std::round(failE)) + " >= " + formatNumber(threshold);
  } else if (state == Verdict::kPass) {
    j.evidence.eValue = passE;
    j.evidence.explanation = what + "; " + passWords + " (e-value " +
                             formatNumber(std::round(passE)) + " >= " + formatNumber(threshold) +
                             ")";
  } else {
    j.evidence.eValue = failE;
    j.evidence.explanation = what + "; not conclusive yet (e-value " +
                             formatNumber(std::round(failE * 100) / 100) + " < " +
                             formatNumber(threshold) + ")";
  }
  if (last == Verdict::kNoData) j.evidence.explanation += "; no requests in the last interval";
}

}  // namespace

RateRatioTest::RateRatioTest(SequentialPolicy policy) : policy_(policy) {}

double RateRatioTest::boundaryRatio() const {
  const double floor = std::max(1.0, policy_.minRatio);
  if (policy_.maxIncrease <= 0) return floor;
  // Plug-in primary rate with a weak prior, so that an error-free primary does not make the
  // allowed ratio infinite.
  const double rate = (total_.primaryBad + 0.5) / (total_.primaryRequests + 1.0);
  return std::max(floor, 1.0 + policy_.maxIncrease / rate);
}

double RateRatioTest::detectableIncrease() const {
  constexpr double kNever = std::numeric_limits<double>::infinity();
  if (!judged_ || total_.canaryRequests <= 0 || total_.primaryRequests <= 0) return kNever;
  constexpr double kPower = 1.6448536269514722;  // the normal's 95% quantile
  const double rate = (total_.primaryBad + 0.5) / (total_.primaryRequests + 1.0);
  const double rho0 = boundaryRatio();
  const double q = total_.canaryRequests / (total_.canaryRequests + total_.primaryRequests);
  const double p0 = rho0 * q / (rho0 * q + 1 - q);
  const double threshold = -std::log(policy_.alpha);
  // The dispersion is an estimate: plan with its upper end (95%, chi-square's normal
  // approximation), so that a run does not stop early on an estimate still too low.
  const double planningDispersion =
      dispersion() * (1 + kPower * std::sqrt(2 / (terms_ + kPriorTerms)));
  auto caught = [&](double increase) {
    const double rho1 = rho0 + increase / rate;
    const double p1 = rho1 * q / (rho1 * q + 1 - q);
    const double bad = total_.canaryRequests * rho1 * rate + total_.primaryRequests * rate;
    return fail_.projectedLogEValue(bad, p0, p1, kPower, planningDispersion) >= threshold;
  };
  // The canary's rate cannot exceed 1: the largest increase there is.
  double high = 1 - rho0 * rate;
  if (!(high > 0) || !caught(high)) return kNever;
  double low = 0;
  for (int i = 0; i < 40; ++i) {
    const double mid = (low + high) / 2;
    (caught(mid) ? high : low) = mid;
  }
  return high;
}

Verdict RateRatioTest::update(const IntervalCounts& c) {
  if (decided(state_)) return last_ = state_;
  if (!(c.canaryRequests > 0 && c.primaryRequests > 0)) return last_ = Verdict::kNoData;
  // The first window with requests on both sides only calibrates: one window cannot tell a
  // regression from a burst of errors on one side, so its counts start each side's rate (what
  // later windows' dispersion is measured against) and its evidence is not counted.
  const bool calibrating = !judged_;
  judged_ = true;
  if (!calibrating) measureDispersion(c);  // before the totals take it in: predictive
  total_.primaryRequests += c.primaryRequests;
  total_.primaryBad += c.primaryBad;
  total_.canaryRequests += c.canaryRequests;
  total_.canaryBad += c.canaryBad;
  if (calibrating) return last_ = state_;
  const double rho0 = boundaryRatio();
  const double q = c.canaryRequests / (c.canaryRequests + c.primaryRequests);
  const double p0 = rho0 * q / (rho0 * q + 1 - q);
  const double bad = c.canaryBad + c.primaryBad;
  fail_.add(c.canaryBad, bad, p0);
  pass_.add(c.canaryBad, bad, p0);
  state_ = decide(fail_, pass_, policy_.alpha, dispersion());
  return last_ = state_;
}

void RateRatioTest::measureDispersion(const IntervalCounts& c) {
  // Predictive Pearson residuals, each divided by its variance under independent errors
  // (including the uncertainty of what it is predicted from, so that independent errors
  // average 1): each side's count against its own rate so far, and the canary's share against
  // the ratio so far.
  for (const auto& [bad, requests, badSoFar, requestsSoFar] :
       {std::array{c.canaryBad, c.canaryRequests, total_.canaryBad, total_.canaryRequests},
        std::array{c.primaryBad, c.primaryRequests, total_.primaryBad, total_.primaryRequests}}) {
    const double expected = requests * (badSoFar + 0.5) / (requestsSoFar + 1);
    const double variance = expected * (1 + requests / (requestsSoFar + 1));
    pearson_ += (bad - expected) * (bad - expected) / variance;
    terms_ += 1;
  }
  const double bad = c.canaryBad + c.primaryBad;
  if (bad > 0) {
    const double ratio = ((total_.canaryBad + 0.5) / (total_.canaryRequests + 1)) /
                         ((total_.primaryBad + 0.5) / (total_.primaryRequests + 1));
    const double q = c.canaryRequests / (c.canaryRequests + c.primaryRequests);
    const double p = ratio * q / (ratio * q + 1 - q);
    const double residual = c.canaryBad - bad * p;
    const double badSoFar = total_.canaryBad + total_.primaryBad;
    pearson_ += residual * residual / (bad * p * (1 - p) * (1 + bad / (badSoFar + 1)));
    terms_ += 1;
  }
}

double RateRatioTest::dispersion() const {
  const double estimate = (pearson_ + kPriorTerms) / (terms_ + kPriorTerms);
  return std::max(1.0, estimate * (1 + kCaution * std::sqrt(2 / (terms_ + kPriorTerms))));
}

namespace {

void appendNumber(std::string& out, double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  out += text;
}

// Reads `count` comma-separated numbers from `text`, starting at `pos`; false on anything else.
bool readNumbers(std::string_view text, std::size_t& pos, double* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ',') return false;
      ++pos;
    }
    const std::string number(text.substr(pos, text.find_first_of(",;", pos) - pos));
    char* end = nullptr;
    out[i] = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(out[i])) {
      return false;
    }
    pos += number.size();
  }
  return true;
}

}  // namespace

std::string RateRatioTest::save() const {
  std::string out = "totals=";
  const double totals[] = {total_.canaryRequests, total_.canaryBad, total_.primaryRequests,
                           total_.primaryBad};
  for (std::size_t i = 0; i < 4; ++i) {
    if (i > 0) out += ',';
    appendNumber(out, totals[i]);
  }
  for (const auto& [name, mixture] : {std::pair{";fail=", &fail_}, std::pair{";pass=", &pass_}}) {
    out += name;
    const auto& llr = mixture->logLikelihoodRatios();
    for (std::size_t g = 0; g < llr.size(); ++g) {
      if (g > 0) out += ',';
      appendNumber(out, llr[g]);
    }
  }
  out += ";dispersion=";
  appendNumber(out, pearson_);
  out += ',';
  appendNumber(out, terms_);
  return out;
}

bool RateRatioTest::restore(std::string_view text) {
  double totals[4];
  std::array<double, BernoulliMixture::kGrid> fail{};
  std::array<double, BernoulliMixture::kGrid> pass{};
  double spread[2] = {0, 0};  // absent in what canaryd before 2026-11-30 saved
  std::size_t pos = 0;
  auto expect = [&](std::string_view word) {
    if (text.substr(pos, word.size()) != word) return false;
    pos += word.size();
    return true;
  };
  if (!expect("totals=") || !readNumbers(text, pos, totals, 4) || !expect(";fail=") ||
      !readNumbers(text, pos, fail.data(), fail.size()) || !expect(";pass=") ||
      !readNumbers(text, pos, pass.data(), pass.size()) ||
      (pos != text.size() && (!expect(";dispersion=") || !readNumbers(text, pos, spread, 2) ||
                              spread[0] < 0 || spread[1] < 0)) ||
      pos != text.size()) {
    return false;
  }
  total_ = {totals[0], totals[1], totals[2], totals[3]};
  pearson_ = spread[0];
  terms_ = spread[1];
  fail_.setLogLikelihoodRatios(fail);
  pass_.setLogLikelihoodRatios(pass);
  judged_ = total_.canaryRequests > 0;
  state_ = judged_ ? decide(fail_, pass_, policy_.alpha, dispersion()) : Verdict::kInconclusive;
  last_ = state_;
  return true;
}

Judgement RateRatioTest::judgement() const {
  Judgement j;
  if (!judged_) {
    j.verdict = last_ == Verdict::kNoData ? Verdict::kNoData : Verdict::kInconclusive;
    j.evidence.explanation = "no interval with requests on both canary and primary yet";
    return j;
  }
  const double canaryRate = total_.canaryBad / total_.canaryRequests;
  const double primaryRate = total_.primaryBad / total_.primaryRequests;
  j.evidence.canaryCount = static_cast<std::int64_t>(total_.canaryRequests);
  j.evidence.baselineCount = static_cast<std::int64_t>(total_.primaryRequests);
  j.evidence.estimate = primaryRate > 0 ? canaryRate / primaryRate : 0.0;
  const double phi = dispersion();
  std::string what =
      policy_.what + " " + percent(canaryRate) + " vs " + percent(primaryRate) + " on primary";
  if (phi > 1.05) {
    what += " (dispersion x" + formatNumber(std::round(phi * 10) / 10) +
            ": the evidence is divided by it)";
  }
  describe(j, state_, last_, fail_, pass_, policy_.alpha, what, "within the allowed margin", phi);
  if (state_ == Verdict::kInconclusive) j.evidence.detectableIncrease = detectableIncrease();
  j.evidence.dispersion = phi;
  return j;
}

ExceedanceTest::ExceedanceTest(ExceedancePolicy policy) : policy_(policy) {}

Verdict ExceedanceTest::update(double requests, double above) {
  if (decided(state_)) return last_ = state_;
  if (!(requests > 0)) return last_ = Verdict::kNoData;
  requests_ += requests;
  above_ += above;
  const double p0 = 1 - policy_.quantile;
  fail_.add(above, requests, p0);
  pass_.add(above, requests, p0);
  state_ = decide(fail_, pass_, policy_.alpha);
  return last_ = state_;
}

Judgement ExceedanceTest::judgement() const {
  Judgement j;
  if (requests_ <= 0) {
    j.verdict = last_ == Verdict::kNoData ? Verdict::kNoData : Verdict::kInconclusive;
    j.evidence.explanation = "no canary requests yet";
    return j;
  }
  j.evidence.canaryCount = static_cast<std::int64_t>(requests_);
  j.evidence.estimate = above_ / requests_;
  describe(j, state_, last_, fail_, pass_, policy_.alpha,
           percent(above_ / requests_) + " of requests above the bound (allowed " +
               percent(1 - policy_.quantile) + ")",
           "objective met");
  return j;
}

LogSummary summarizeLog(std::span<const double> latencies) {
  LogSummary out;
  for (double v : latencies) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    const double l = std::log(v);
    out.count += 1;
    out.sum += l;
    out.sumSquares += l * l;
  }
  return out;
}

MeanShiftTest::MeanShiftTest(MeanShiftPolicy policy) : policy_(policy) {}

Verdict MeanShiftTest::update(const LogSummary& canary, const LogSummary& primary) {
  if (decided(state_)) return last_ = state_;
  if (!(canary.count > 0 && primary.count > 0)) return last_ = Verdict::kNoData;
  for (auto [total, add] : {std::pair{&canary_, &canary}, std::pair{&primary_, &primary}}) {
    total->count += add->count;
    total->sum += add->sum;
    total->sumSquares += add->sumSquares;
  }
  const double nc = canary_.count;
  const double np = primary_.count;
  if (nc + np < 3) return last_ = Verdict::kInconclusive;
  const double mc = canary_.sum / nc;
  const double mp = primary_.sum / np;
  const double pooled =
      ((canary_.sumSquares - nc * mc * mc) + (primary_.sumSquares - np * mp * mp)) / (nc + np - 2);
  const double variance = std::max(pooled, 1e-12) * (1 / nc + 1 / np);
  const double tau2 = policy_.mixtureScale * policy_.mixtureScale;
  const double theta0 = std::log1p(policy_.maxIncrease);
  shift_ = mc - mp;
  const double d = shift_ - theta0;
  logLambda_ = 0.5 * std::log(variance / (variance + tau2)) +
               tau2 * d * d / (2 * variance * (variance + tau2));
  const double logThreshold = -std::log(policy_.alpha);
  halfWidth_ = std::sqrt((variance * (variance + tau2) / tau2) *
                         (std::log((variance + tau2) / variance) + 2 * logThreshold));
  if (logLambda_ >= logThreshold && shift_ > theta0) {
    state_ = Verdict::kFail;
  } else if (shift_ + halfWidth_ < theta0) {
    state_ = Verdict::kPass;
  } else {
    state_ = Verdict::kInconclusive;
  }
  return last_ = state_;
}

Judgement MeanShiftTest::judgement() const {
  Judgement j;
  j.verdict = last_ == Verdict::kNoData ? Verdict::kNoData : state_;
  j.evidence.canaryCount = static_cast<std::int64_t>(canary_.count);
  j.evidence.baselineCount = static_cast<std::int64_t>(primary_.count);
  if (canary_.count <= 0 || primary_.count <= 0) {
    j.evidence.explanation = "no latency samples from both canary and primary yet";
    return j;
  }
  // Reported as ratios of geometric-mean latency.
  j.evidence.estimate = std::exp(shift_);
  j.evidence.lower = std::exp(shift_ - halfWidth_);
  j.evidence.upper = std::exp(shift_ + halfWidth_);
  j.evidence.eValue = std::exp(logLambda_);
  j.evidence.threshold = 1 / policy_.alpha;
  const std::string ratio = "latency ratio " +
                            formatNumber(std::round(std::exp(shift_) * 1000) / 1000) + " [" +
                            formatNumber(std::round(*j.evidence.lower * 1000) / 1000) + ", " +
                            formatNumber(std::round(*j.evidence.upper * 1000) / 1000) +
                            "], allowed " + formatNumber(1 + policy_.maxIncrease);
  if (state_ == Verdict::kFail) j.direction = Direction::kHigh;
  j.evidence.explanation = ratio + (state_ == Verdict::kFail   ? "; canary slower"
                                    : state_ == Verdict::kPass ? "; within the allowed slowdown"
                                                               : "; not conclusive yet");
  return j;
}

double perMetricAlpha(double alpha, int metrics) {
  return alpha / std::max(1, metrics);
}

Judgement combine(std::span<const Judgement> perMetric) {
  Judgement out;
  out.verdict = perMetric.empty() ? Verdict::kNoData : Verdict::kPass;
  for (const Judgement& j : perMetric) {
    if (j.verdict == Verdict::kFail) return j;
  }
  for (const Judgement& j : perMetric) {
    if (j.verdict == Verdict::kNoData) return j;
  }
  for (const Judgement& j : perMetric) {
    if (j.verdict == Verdict::kInconclusive) return j;
  }
  if (!perMetric.empty()) out = perMetric.back();
  return out;
}

}  // namespace canaryd::analysis
