#include "canaryd/sim/scenario.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/document.h"
#include "canaryd/api/validate.h"
#include "canaryd/core/text.h"
#include "canaryd/plugins/builtin.h"

namespace canaryd::sim {
namespace {

using nlohmann::json;

// Reads fields of a JSON object, reporting each problem with its path.
class Reader {
 public:
  explicit Reader(std::vector<api::Problem>& problems) : problems_(problems) {}

  void error(std::string path, std::string message) {
    problems_.push_back({api::Severity::kError, std::move(path), std::move(message), 0, 0});
  }

  // Fields other than `allowed` are errors (a typo must not silently mean the default).
  void onlyFields(const json& object, const std::string& path,
                  const std::set<std::string>& allowed) {
    if (!object.is_object()) return;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (allowed.contains(it.key())) continue;
      std::string list;
      for (const std::string& a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      error(join(path, it.key()), "unknown field; allowed here: " + list);
    }
  }

  const json* object(const json& parent, const std::string& key, const std::string& path) {
    if (!parent.contains(key)) return nullptr;
    const json& v = parent[key];
    if (!v.is_object()) {
      error(join(path, key), "must be a mapping");
      return nullptr;
    }
    return &v;
  }

  std::optional<double> number(const json& parent, const std::string& key, const std::string& path,
                               double lo, double hi, const std::string& unit) {
    if (!parent.contains(key)) return std::nullopt;
    const json& v = parent[key];
    if (!v.is_number()) {
      error(join(path, key), "must be a number (" + unit + ")");
      return std::nullopt;
    }
    const double d = v.get<double>();
    if (!(d >= lo && d <= hi)) {
      error(join(path, key), "must be between " + formatNumber(lo) + " and " + formatNumber(hi) +
                                 " (" + unit + "), got " + v.dump());
      return std::nullopt;
    }
    return d;
  }

  std::optional<Duration> duration(const json& parent, const std::string& key,
                                   const std::string& path) {
    if (!parent.contains(key)) return std::nullopt;
    const json& v = parent[key];
    if (!v.is_string()) {
      error(join(path, key), "must be a duration such as \"90s\" or \"5m\"");
      return std::nullopt;
    }
    Result<Duration> d = parseDuration(v.get<std::string>());
    if (!d) {
      error(join(path, key), d.error().message());
      return std::nullopt;
    }
    if (*d < Duration::zero()) {
      error(join(path, key), "must not be negative");
      return std::nullopt;
    }
    return *d;
  }

  std::optional<std::string> oneOf(const json& parent, const std::string& key,
                                   const std::string& path,
                                   const std::vector<std::string>& allowed) {
    if (!parent.contains(key)) return std::nullopt;
    const json& v = parent[key];
    if (v.is_string() &&
        std::find(allowed.begin(), allowed.end(), v.get<std::string>()) != allowed.end()) {
      return v.get<std::string>();
    }
    std::string list;
    for (const std::string& a : allowed)
      list += (list.empty() ? "" : ", ") + a;
    error(join(path, key), "must be one of: " + list + "; got " + v.dump());
    return std::nullopt;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  std::vector<api::Problem>& problems_;
};

Behaviour readBehaviour(Reader& r, const json& spec, const std::string& key, bool candidate) {
  Behaviour b;
  const json* o = r.object(spec, key, "spec");
  if (o == nullptr) return b;
  const std::string path = "spec." + key;
  std::set<std::string> allowed = {"errorRate", "latency", "errorBursts", "errorRateSchedule"};
  if (candidate) allowed.insert("onset");
  r.onlyFields(*o, path, allowed);
  b.errorRate = r.number(*o, "errorRate", path, 0, 1, "a fraction of requests").value_or(0);
  if (const json* latency = r.object(*o, "latency", path)) {
    r.onlyFields(*latency, path + ".latency", {"p50", "p99"});
    b.latency.p50Ms = r.number(*latency, "p50", path + ".latency", 0.001, 3.6e6, "milliseconds")
                          .value_or(b.latency.p50Ms);
    b.latency.p99Ms = r.number(*latency, "p99", path + ".latency", 0.001, 3.6e6, "milliseconds")
                          .value_or(b.latency.p99Ms);
    if (b.latency.p99Ms < b.latency.p50Ms) {
      r.error(path + ".latency.p99", "must not be below p50");
    }
  }
  if (candidate) b.onset = r.duration(*o, "onset", path);
  if (const json* bursts = r.object(*o, "errorBursts", path)) {
    r.onlyFields(*bursts, path + ".errorBursts", {"meanSize"});
    b.burstMeanSize =
        r.number(*bursts, "meanSize", path + ".errorBursts", 1, 1000, "requests").value_or(1);
  }
  if (o->contains("errorRateSchedule")) {
    const json& schedule = (*o)["errorRateSchedule"];
    const std::string at = path + ".errorRateSchedule";
    if (!schedule.is_array()) r.error(at, "must be a list of {after, errorRate}");
    for (std::size_t i = 0; schedule.is_array() && i < schedule.size(); ++i) {
      const std::string item = at + "[" + std::to_string(i) + "]";
      if (!schedule[i].is_object()) {
        r.error(item, "must be a mapping {after, errorRate}");
        continue;
      }
      r.onlyFields(schedule[i], item, {"after", "errorRate"});
      std::optional<Duration> after = r.duration(schedule[i], "after", item);
      std::optional<double> rate =
          r.number(schedule[i], "errorRate", item, 0, 1, "a fraction of requests");
      if (!after || !rate) {
        if (!schedule[i].contains("after") || !schedule[i].contains("errorRate")) {
          r.error(item, "needs after (a duration since the run's start) and errorRate");
        }
        continue;
      }
      if (!b.errorRateSchedule.empty() && *after <= b.errorRateSchedule.back().after) {
        r.error(item + ".after", "must be later than the change before it");
        continue;
      }
      b.errorRateSchedule.push_back({*after, *rate});
    }
  }
  return b;
}

// The Canary of spec.canary or spec.canaryFile, validated; problems of an inline Canary are
// reported under spec.canary.
std::optional<api::Canary> readCanary(
    Reader& r, std::vector<api::Problem>& problems, const json& spec,
    const std::function<Result<std::string>(const std::string&)>& readFile) {
  const bool inline_ = spec.contains("canary");
  const bool file = spec.contains("canaryFile");
  if (inline_ == file) {
    r.error("spec", inline_ ? "set spec.canary or spec.canaryFile, not both"
                            : "required field is missing: spec.canary (an inline Canary "
                              "manifest) or spec.canaryFile (a file holding one)");
    return std::nullopt;
  }
  std::vector<api::Document> docs;
  std::string prefix;
  if (inline_) {
    Result<api::Document> doc = api::parseJsonDocument(spec["canary"].dump(), "spec.canary");
    if (!doc) {
      r.error("spec.canary", doc.error().message());
      return std::nullopt;
    }
    docs.push_back(*doc);
    prefix = "spec.canary.";
  } else {
    if (!spec["canaryFile"].is_string()) {
      r.error("spec.canaryFile", "must be a file name");
      return std::nullopt;
    }
    const std::string name = spec["canaryFile"].get<std::string>();
    Result<std::string> text = readFile(name);
    if (!text) {
      r.error("spec.canaryFile", text.error().message());
      return std::nullopt;
    }
    Result<std::vector<api::Document>> parsed = api::parseYamlDocuments(*text, name);
    if (!parsed) {
      r.error("spec.canaryFile", parsed.error().message());
      return std::nullopt;
    }
    docs = *parsed;
  }
  for (const api::DocumentReport& report :
       api::validateDocuments(docs, plugins::builtin().catalog())) {
    if (report.kind != "Canary") continue;
    for (api::Problem p : report.problems) {
      if (inline_) {
        p.path = prefix + p.path;
        p.line = 0;  // located in the scenario below
      } else {
        p.path = "spec.canaryFile: " + report.document->source + ":" + std::to_string(p.line) +
                 ": " + p.path;
      }
      problems.push_back(p);
    }
    if (report.verdict == api::DocumentVerdict::kInvalid) return std::nullopt;
    return api::withDefaults(api::decodeCanary(*report.document).value);
  }
  r.error(inline_ ? "spec.canary" : "spec.canaryFile", "holds no Canary");
  return std::nullopt;
}

}  // namespace

ScenarioRead readScenario(std::string_view text, const std::string& source,
                          const std::function<Result<std::string>(const std::string&)>& readFile) {
  ScenarioRead out;
  Reader r(out.problems);
  Result<std::vector<api::Document>> docs = api::parseYamlDocuments(text, source);
  if (!docs) {
    r.error("", docs.error().message());
    return out;
  }
  if (docs->size() != 1) {
    r.error("", "a scenario file holds exactly one Scenario document, found " +
                    std::to_string(docs->size()));
    return out;
  }
  const api::Document& doc = docs->front();
  const json& body = doc.body.get();
  Scenario s;
  if (!body.is_object()) {
    r.error("", "a Scenario must be a mapping with apiVersion, kind, metadata and spec");
    return out;
  }
  r.onlyFields(body, "", {"apiVersion", "kind", "metadata", "spec"});
  if (body.value("apiVersion", json()) != kScenarioApiVersion) {
    r.error("apiVersion", std::string("must be ") + kScenarioApiVersion);
  }
  if (body.value("kind", json()) != "Scenario") r.error("kind", "must be Scenario");
  const json* metadata = r.object(body, "metadata", "");
  if (metadata == nullptr || !metadata->contains("name") || !(*metadata)["name"].is_string() ||
      (*metadata)["name"].get<std::string>().empty()) {
    r.error("metadata.name", "required field is missing: the scenario's name");
  } else {
    s.name = (*metadata)["name"].get<std::string>();
  }
  const json* spec = r.object(body, "spec", "");
  if (spec == nullptr) {
    r.error("spec", "required field is missing: the canary, traffic and behaviour to simulate");
  } else {
    r.onlyFields(*spec, "spec",
                 {"canary", "canaryFile", "traffic", "primary", "candidate", "prometheus", "faults",
                  "durationLimit", "expect"});
    if (std::optional<api::Canary> c = readCanary(r, out.problems, *spec, readFile)) s.canary = *c;
    if (const json* t = r.object(*spec, "traffic", "spec")) {
      r.onlyFields(*t, "spec.traffic",
                   {"requestsPerSecond", "pattern", "amplitude", "period", "burstFactor",
                    "burstProbability", "testRequestsPerSecond", "rateNoise"});
      s.traffic.requestsPerSecond =
          r.number(*t, "requestsPerSecond", "spec.traffic", 0.001, 1e6, "requests per second")
              .value_or(s.traffic.requestsPerSecond);
      const std::string pattern =
          r.oneOf(*t, "pattern", "spec.traffic", {"constant", "diurnal", "bursty"})
              .value_or("constant");
      s.traffic.pattern = pattern == "diurnal"  ? Pattern::kDiurnal
                          : pattern == "bursty" ? Pattern::kBursty
                                                : Pattern::kConstant;
      s.traffic.amplitude = r.number(*t, "amplitude", "spec.traffic", 0, 0.99, "a fraction")
                                .value_or(s.traffic.amplitude);
      s.traffic.period = r.duration(*t, "period", "spec.traffic").value_or(s.traffic.period);
      s.traffic.burstFactor = r.number(*t, "burstFactor", "spec.traffic", 1, 1000, "a factor")
                                  .value_or(s.traffic.burstFactor);
      s.traffic.burstProbability =
          r.number(*t, "burstProbability", "spec.traffic", 0, 1, "a probability")
              .value_or(s.traffic.burstProbability);
      s.traffic.testRequestsPerSecond =
          r.number(*t, "testRequestsPerSecond", "spec.traffic", 0, 1e6, "requests per second")
              .value_or(s.traffic.testRequestsPerSecond);
      if (const json* noise = r.object(*t, "rateNoise", "spec.traffic")) {
        r.onlyFields(*noise, "spec.traffic.rateNoise", {"cv"});
        s.traffic.errorRateNoiseCv =
            r.number(*noise, "cv", "spec.traffic.rateNoise", 0, 5, "a coefficient of variation")
                .value_or(0);
      }
    } else if (!spec->contains("traffic")) {
      r.error("spec.traffic", "required field is missing: requestsPerSecond and pattern");
    }
    if (const json* p = r.object(*spec, "prometheus", "spec")) {
      r.onlyFields(*p, "spec.prometheus", {"scrapeInterval", "extrapolate"});
      s.prometheus.scrapeInterval =
          r.duration(*p, "scrapeInterval", "spec.prometheus").value_or(s.prometheus.scrapeInterval);
      if (s.prometheus.scrapeInterval < std::chrono::seconds(5) ||
          s.prometheus.scrapeInterval % std::chrono::seconds(5) != Duration::zero()) {
        r.error("spec.prometheus.scrapeInterval",
                "must be a multiple of the simulator's 5s tick, at least 5s");
      }
      if (p->contains("extrapolate")) {
        if (!(*p)["extrapolate"].is_boolean()) {
          r.error("spec.prometheus.extrapolate", "must be true or false");
        } else {
          s.prometheus.extrapolate = (*p)["extrapolate"].get<bool>();
        }
      }
    }
    s.primary = readBehaviour(r, *spec, "primary", false);
    s.candidate = readBehaviour(r, *spec, "candidate", true);
    if (spec->contains("faults")) {
      const json& faults = (*spec)["faults"];
      if (!faults.is_array()) r.error("spec.faults", "must be a list");
      for (std::size_t i = 0; faults.is_array() && i < faults.size(); ++i) {
        const std::string path = "spec.faults[" + std::to_string(i) + "]";
        if (!faults[i].is_object()) {
          r.error(path, "must be a mapping with type, from and until");
          continue;
        }
        r.onlyFields(faults[i], path, {"type", "from", "until"});
        Fault f;
        f.type = r.oneOf(faults[i], "type", path,
                         {"metrics-outage", "webhook-failure", "webhook-refusal", "slow-readiness"})
                     .value_or("");
        if (!faults[i].contains("type")) r.error(path + ".type", "required field is missing");
        f.from = r.duration(faults[i], "from", path).value_or(Duration::zero());
        f.until = r.duration(faults[i], "until", path).value_or(f.from);
        if (f.until <= f.from) r.error(path + ".until", "must be after from");
        s.faults.push_back(f);
      }
    }
    if (std::optional<Duration> limit = r.duration(*spec, "durationLimit", "spec")) {
      if (*limit <= Duration::zero()) r.error("spec.durationLimit", "must be positive");
      s.durationLimit = *limit;
    }
    if (const json* e = r.object(*spec, "expect", "spec")) {
      r.onlyFields(*e, "spec.expect", {"phase", "outcome", "maxDuration", "minDuration"});
      s.expect.phase = r.oneOf(*e, "phase", "spec.expect",
                               {"Succeeded", "Failed", "Progressing", "WaitingPromotion"});
      s.expect.outcome =
          r.oneOf(*e, "outcome", "spec.expect", {"promoted", "rolledBack", "undecided"});
      s.expect.maxDuration = r.duration(*e, "maxDuration", "spec.expect");
      s.expect.minDuration = r.duration(*e, "minDuration", "spec.expect");
    }
  }
  for (api::Problem& p : out.problems) {
    if (p.line == 0 && !p.path.starts_with("spec.canaryFile: ")) {
      const api::SourcePosition at = api::locate(doc, p.path);
      p.line = at.line;
      p.column = at.column;
    }
  }
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const api::Problem& a, const api::Problem& b) { return a.line < b.line; });
  const bool failed = std::any_of(out.problems.begin(), out.problems.end(), [](const auto& p) {
    return p.severity == api::Severity::kError;
  });
  if (!failed) out.scenario = std::move(s);
  return out;
}

}  // namespace canaryd::sim
