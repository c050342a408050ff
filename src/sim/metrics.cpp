#include "canaryd/sim/metrics.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "canaryd/core/text.h"
#include "canaryd/metrics/builtin_queries.h"
#include "canaryd/metrics/query_template.h"

namespace canaryd::sim {
namespace {

enum class Kind {
  kSuccessRate,
  kDuration,
  kRequests,
  kErrors,
  kLatencyBuckets,
  kRequestsTotal,
  kErrorsTotal,
  kResets  // no pod of the simulated cluster restarts
};

struct Recognised {
  Kind kind = Kind::kRequests;
  bool canary = true;
  Duration window{};
};

double value(Kind kind, const Side& side) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (side.requests == 0) return kNaN;  // no requests: Prometheus has nothing (or NaN)
  switch (kind) {
    case Kind::kSuccessRate:
      return 100.0 * static_cast<double>(side.requests - side.errors) /
             static_cast<double>(side.requests);
    case Kind::kDuration:
      return latencyQuantileMs(side, 0.99);
    case Kind::kRequests:
      return static_cast<double>(side.requests);
    case Kind::kErrors:
      return side.errors == 0 ? kNaN : static_cast<double>(side.errors);  // no 5xx series yet
    case Kind::kLatencyBuckets:
    case Kind::kRequestsTotal:  // counters: total()
    case Kind::kErrorsTotal:
    case Kind::kResets:
      return kNaN;
  }
  return kNaN;
}

class SimProvider final : public metrics::Provider {
 public:
  SimProvider(const Clock& clock, const TrafficLedger& ledger, MetricsSource source)
      : clock_(clock), ledger_(ledger), source_(std::move(source)) {}

  Result<double> query(const std::string& text) override {
    Result<Recognised> r = recognise(text);
    if (!r) return r.error();
    const TimePoint now = clock_.now();
    const double v = at(*r, now);
    if (std::isnan(v)) return Error::notFound("no values found for the query (no requests)");
    return v;
  }

  // The histogram's cumulative bucket counts by `le`, in the provider's unit.
  Result<std::map<std::string, double>> queryByLabel(const std::string& text,
                                                     const std::string& label) override {
    Result<Recognised> r = recognise(text);
    if (!r) return r.error();
    if (r->kind != Kind::kLatencyBuckets || label != "le") {
      return Error::invalidInput(
          "the simulator answers queries by le for the latency buckets only");
    }
    const IntervalTraffic traffic = ledger_.window(clock_.now() - r->window, clock_.now());
    const Side& side = r->canary ? traffic.canary : traffic.primary;
    if (side.requests == 0) return Error::notFound("no values found for the query (no requests)");
    std::map<std::string, double> out;
    double below = 0;
    for (std::size_t i = 0; i < side.latency.size(); ++i) {
      below += static_cast<double>(side.latency[i]);
      out[i < kLatencyBuckets.size() ? formatNumber(kLatencyBuckets[i] * 1000.0 / unitMs_)
                                     : std::string("+Inf")] = below;
    }
    return out;
  }

  Result<std::vector<double>> queryRange(const std::string& text, TimePoint start, TimePoint end,
                                         Duration step) override {
    Result<Recognised> r = recognise(text);
    if (!r) return r.error();
    if (step <= Duration::zero()) return Error::invalidInput("the step must be positive");
    std::vector<double> out;
    bool any = false;
    for (TimePoint t = start; t <= end; t += step) {
      out.push_back(at(*r, t));
      any = any || !std::isnan(out.back());
    }
    if (!any) return Error::notFound("no values found for the query (no requests)");
    return out;
  }

 private:
  double at(const Recognised& r, TimePoint t) const {
    if (r.kind == Kind::kRequestsTotal || r.kind == Kind::kErrorsTotal) return total(r, t);
    if (r.kind == Kind::kResets) return 0;
    if (source_.extrapolate && (r.kind == Kind::kRequests || r.kind == Kind::kErrors)) {
      return scrapedIncrease(r, t);
    }
    const IntervalTraffic traffic = ledger_.window(t - r.window, t);
    return value(r.kind, r.canary ? traffic.canary : traffic.primary);
  }

  // A counter's current value: its count since the start (exactly, or at the side's last
  // scrape with prometheus.extrapolate); no series (NaN) before its first count.
  double total(const Recognised& r, TimePoint t) const {
    TimePoint at = t;
    if (source_.extrapolate) {
      const Duration offset = r.canary ? ledger_.tick() : Duration::zero();
      const Duration since = t - ledger_.origin() - offset;
      if (since < Duration::zero()) return std::numeric_limits<double>::quiet_NaN();
      at = ledger_.origin() + offset + (since / source_.scrapeInterval) * source_.scrapeInterval;
    }
    const IntervalTraffic all = ledger_.window(ledger_.origin(), at);
    const Side& side = r.canary ? all.canary : all.primary;
    const auto v =
        static_cast<double>(r.kind == Kind::kRequestsTotal ? side.requests : side.errors);
    return v > 0 ? v : std::numeric_limits<double>::quiet_NaN();
  }

  // The counter as Prometheus scraped it every scrapeInterval (the canary's scrapes a tick after
  // the primary's), from the scrape at which the series first had a value (a counter with a
  // status label appears with its first request): increase() over the window from those samples.
  double scrapedIncrease(const Recognised& r, TimePoint t) const {
    const Duration scrape = source_.scrapeInterval;
    const Duration offset = r.canary ? ledger_.tick() : Duration::zero();
    const auto seconds = [&](TimePoint at) { return toSeconds(at - ledger_.origin()); };
    std::vector<double> times;
    std::vector<double> values;
    double counter = 0;
    TimePoint previous = ledger_.origin();
    for (TimePoint s = ledger_.origin() + offset; s <= t; s += scrape) {
      const IntervalTraffic added = ledger_.window(previous, s);
      const Side& side = r.canary ? added.canary : added.primary;
      counter += static_cast<double>(r.kind == Kind::kRequests ? side.requests : side.errors);
      previous = s;
      if (counter <= 0 || s <= t - r.window) continue;  // no series yet, or before the window
      times.push_back(seconds(s));
      values.push_back(counter);
    }
    const double v = prometheusIncrease(times, values, seconds(t - r.window), seconds(t));
    if (r.kind == Kind::kErrors && v == 0) return std::numeric_limits<double>::quiet_NaN();
    return v;
  }

  Result<Recognised> recognise(const std::string& text) {
    if (source_.outage && source_.outage(clock_.now())) {
      return Error::unavailable("simulated metrics outage: Prometheus does not answer");
    }
    // The range selector's `[interval]` (other brackets are regular expressions' classes).
    for (std::size_t open = text.find('['); open != std::string::npos;
         open = text.find('[', open + 1)) {
      const std::size_t close = text.find(']', open);
      if (close == std::string::npos) break;
      const std::string interval = text.substr(open + 1, close - open - 1);
      Result<Duration> window = parseDuration(interval);
      if (!window || *window <= Duration::zero()) continue;
      fillCache(interval, *window);
      auto found = cache_.find(text);
      if (found != cache_.end()) return found->second;
    }
    // The counters' totals have no range: any interval renders them the same.
    fillCache("1m", std::chrono::minutes(1));
    if (auto found = cache_.find(text);
        found != cache_.end() &&
        (found->second.kind == Kind::kRequestsTotal || found->second.kind == Kind::kErrorsTotal)) {
      return found->second;
    }
    return Error::invalidInput(
        "the simulator answers only the " + source_.provider +
        " provider's built-in queries (request-success-rate, request-duration, and the request "
        "and error counts and latency buckets of the sequential judge) for " +
        source_.target + " and " + source_.target + "-primary; not: " + text.substr(0, 200));
  }

  // Renders the built-in queries for both workloads with `interval`, once per interval.
  void fillCache(const std::string& interval, Duration window) {
    if (!rendered_.insert(interval).second) return;
    Result<metrics::BuiltinQueries> queries = metrics::builtinQueries(source_.provider);
    if (!queries) return;
    unitMs_ = queries->latencyBucketMs;
    metrics::QueryContext keys;
    const std::string apex = source_.apex.empty() ? source_.target : source_.apex;
    keys.values = {{"namespace", source_.namespace_},
                   {"interval", interval},
                   {"name", source_.name},
                   {"service", apex},
                   {"ingress", source_.ingress},
                   {"route", source_.route}};
    for (const bool canary : {true, false}) {
      keys.values["target"] = canary ? source_.target : source_.target + "-primary";
      keys.values["backend"] = apex + (canary ? "-canary" : "-primary");
      for (const auto& [kind, query] : {std::pair{Kind::kSuccessRate, &queries->requestSuccessRate},
                                        std::pair{Kind::kDuration, &queries->requestDuration},
                                        std::pair{Kind::kRequests, &queries->requests},
                                        std::pair{Kind::kErrors, &queries->errors},
                                        std::pair{Kind::kLatencyBuckets, &queries->latencyBuckets},
                                        std::pair{Kind::kRequestsTotal, &queries->requestsTotal},
                                        std::pair{Kind::kErrorsTotal, &queries->errorsTotal},
                                        std::pair{Kind::kResets, &queries->requestsResets}}) {
        if (query->empty()) continue;
        Result<std::string> text = metrics::renderQuery(*query, keys);
        // A query that renders the same for both sides (the canary Ingress' own metrics)
        // measures the canary: the canary's entry, made first, stays.
        if (text) cache_.emplace(*text, Recognised{kind, canary, window});
      }
    }
  }

  const Clock& clock_;
  const TrafficLedger& ledger_;
  MetricsSource source_;
  std::set<std::string> rendered_;
  std::map<std::string, Recognised> cache_;
  double unitMs_ = 1;  // milliseconds per unit of the provider's `le`
};

}  // namespace

IntervalTraffic TrafficLedger::window(TimePoint from, TimePoint to) const {
  IntervalTraffic sum;
  if (to <= origin_) return sum;
  const auto first = std::max<std::int64_t>(0, (from - origin_ + tick_ - Duration(1)) / tick_);
  const auto last = std::min<std::int64_t>(size(), (to - origin_ + tick_ - Duration(1)) / tick_);
  for (std::int64_t i = first; i < last; ++i)
    accumulate(sum, ticks_[static_cast<std::size_t>(i)]);
  return sum;
}

double prometheusIncrease(const std::vector<double>& times, const std::vector<double>& values,
                          double windowStart, double windowEnd) {
  if (times.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const double result = values.back() - values.front();
  const double sampled = times.back() - times.front();
  const double average = sampled / static_cast<double>(times.size() - 1);
  double toStart = times.front() - windowStart;
  const double toEnd = windowEnd - times.back();
  // A counter does not go below zero: extrapolate at most to where it would have been 0.
  if (result > 0 && values.front() >= 0)
    toStart = std::min(toStart, sampled * values.front() / result);
  const double threshold = average * 1.1;
  double extrapolated = sampled;
  extrapolated += toStart < threshold ? toStart : average / 2;
  extrapolated += toEnd < threshold ? toEnd : average / 2;
  return result * extrapolated / sampled;
}

double latencyQuantileMs(const Side& side, double quantile) {
  if (side.requests == 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = quantile * static_cast<double>(side.requests);
  double below = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    const double count = static_cast<double>(side.latency[i]);
    if (below + count >= rank && count > 0) {
      const double lower = i == 0 ? 0.0 : kLatencyBuckets[i - 1];
      return 1000.0 * (lower + (kLatencyBuckets[i] - lower) * (rank - below) / count);
    }
    below += count;
  }
  // The quantile falls in the +Inf bucket: Prometheus answers the highest finite bound.
  return 1000.0 * kLatencyBuckets.back();
}

std::unique_ptr<metrics::Provider> makeProvider(const Clock& clock, const TrafficLedger& ledger,
                                                MetricsSource source) {
  return std::make_unique<SimProvider>(clock, ledger, std::move(source));
}

}  // namespace canaryd::sim
