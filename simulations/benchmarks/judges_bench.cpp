// Micro-benchmarks of the judges: what one analysis interval costs the controller.
//   build/simulations/judges_bench
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "canaryd/analysis/mann_whitney.h"
#include "canaryd/analysis/sequential.h"

namespace {

using namespace canaryd::analysis;

// Mann-Whitney on 2 x 60 latency-like points (one point per second of a one-minute window).
void BM_MannWhitney60x60(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> latency(3.0, 0.4);
  std::vector<double> baseline(60);
  std::vector<double> canary(60);
  for (double& v : baseline)
    v = latency(rng);
  for (double& v : canary)
    v = latency(rng) * 1.05;
  for (auto _ : state) {
    Judgement j = judgeMannWhitney(canary, baseline, MannWhitneyPolicy{});
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_MannWhitney60x60);

// The rank-sum test alone (p-value, estimate and interval), without classification.
void BM_WilcoxonRankSum60x60(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(100, 5);
  std::vector<double> baseline(60);
  std::vector<double> canary(60);
  for (double& v : baseline)
    v = noise(rng);
  for (double& v : canary)
    v = noise(rng) + 1;
  for (auto _ : state) {
    auto r = wilcoxonRankSum(canary, baseline, 0.95);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_WilcoxonRankSum60x60);

// One sequential update: one interval's counts into the fail and pass e-processes.
void BM_SequentialUpdate(benchmark::State& state) {
  RateRatioTest test({1e-300, 0});  // an unreachable threshold keeps the test running
  IntervalCounts counts{600, 6, 5400, 54};
  for (auto _ : state) {
    Verdict v = test.update(counts);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_SequentialUpdate);

// The e-process arithmetic alone, without building the verdict's explanation.
void BM_BernoulliMixtureAdd(benchmark::State& state) {
  BernoulliMixture mixture(true);
  for (auto _ : state) {
    mixture.add(6, 60, 0.1);
    benchmark::DoNotOptimize(mixture);
  }
}
BENCHMARK(BM_BernoulliMixtureAdd);

}  // namespace

BENCHMARK_MAIN();
