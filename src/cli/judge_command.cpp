#include "cli/judge_command.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "canaryd/analysis/mann_whitney.h"
#include "canaryd/analysis/sequential.h"
#include "canaryd/core/result.h"
#include "canaryd/core/text.h"

namespace canaryd::cli {
namespace {

using analysis::Direction;
using analysis::Judgement;
using analysis::Verdict;

Result<std::string> readAll(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error::invalidInput(file + ": cannot read: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string at(const std::string& file, int line) {
  return file + ":" + std::to_string(line);
}

Result<double> parseNumber(const std::string& token, const std::string& where) {
  const std::string lower = lowercase(token);
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  double value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return Error::invalidInput(where + ": " + quote(token) + " is not a number");
  }
  return value;
}

// Numbers separated by whitespace or newlines; '#' starts a comment; NaN allowed.
Result<std::vector<double>> readNumbers(const std::string& file) {
  Result<std::string> text = readAll(file);
  if (!text) return text.error();
  std::vector<double> out;
  std::istringstream lines(*text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream tokens(line);
    std::string token;
    while (tokens >> token) {
      Result<double> v = parseNumber(token, at(file, number));
      if (!v) return v.error();
      out.push_back(*v);
    }
  }
  return out;
}

nlohmann::json optionalNumber(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

std::string mannWhitneyVerdict(const Judgement& j) {
  if (j.verdict == Verdict::kFail) return j.direction == Direction::kLow ? "low" : "high";
  return std::string(analysis::toString(j.verdict));
}

}  // namespace

int runJudgeMannWhitney(const JudgeMannWhitneyOptions& o, std::ostream& out, std::ostream& err) {
  Result<std::vector<double>> baseline = readNumbers(o.baselineFile);
  if (!baseline) {
    err << "canaryd judge: " << baseline.error().message() << "\n";
    return 1;
  }
  Result<std::vector<double>> canary = readNumbers(o.canaryFile);
  if (!canary) {
    err << "canaryd judge: " << canary.error().message() << "\n";
    return 1;
  }
  analysis::MannWhitneyPolicy policy;
  policy.confidence = o.confidence;
  policy.allowedIncrease = o.allowedIncrease;
  policy.allowedDecrease = o.allowedDecrease;
  policy.effectSize = o.effectSize == "cles" ? analysis::EffectSizeMeasure::kCles
                                             : analysis::EffectSizeMeasure::kMeanRatio;
  policy.nanStrategy = o.nanStrategy == "replace" ? analysis::NanStrategy::kReplaceWithZero
                                                  : analysis::NanStrategy::kRemove;
  Judgement j = analysis::judgeMannWhitney(*canary, *baseline, policy);
  const analysis::Evidence& e = j.evidence;
  if (o.output == "json") {
    nlohmann::json result = {
        {"verdict", mannWhitneyVerdict(j)},
        {"pValue", optionalNumber(e.pValue)},
        {"statistic", optionalNumber(e.statistic)},
        {"estimate", optionalNumber(e.estimate)},
        {"confidenceInterval", {optionalNumber(e.lower), optionalNumber(e.upper)}},
        {"effectSize", optionalNumber(e.effectSize)},
        {"baselineCount", e.baselineCount},
        {"canaryCount", e.canaryCount},
        {"explanation", e.explanation},
    };
    out << result.dump() << "\n";
  } else {
    out << "verdict: " << mannWhitneyVerdict(j) << "\n" << e.explanation << "\n";
    out << "canary " << e.canaryCount << " values, baseline " << e.baselineCount << " values\n";
  }
  return 0;
}

namespace {

struct Row {
  int line;
  analysis::IntervalCounts counts;
};

Result<std::vector<std::pair<std::string, std::vector<Row>>>> readStreams(const std::string& file) {
  Result<std::string> text = readAll(file);
  if (!text) return text.error();
  static const char* kHeader =
      "stream,canary_weight,canary_requests,canary_errors,primary_requests,primary_errors";
  std::vector<std::pair<std::string, std::vector<Row>>> streams;
  std::map<std::string, std::size_t> index;
  std::istringstream lines(*text);
  std::string line;
  int number = 0;
  bool headerSeen = false;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string compact;
    for (char c : line) {
      if (c != ' ' && c != '\t') compact += c;
    }
    if (compact.empty() || compact[0] == '#') continue;
    if (!headerSeen) {
      if (compact != kHeader) {
        return Error::invalidInput(at(file, number) + ": expected the header " +
                                   std::string(kHeader));
      }
      headerSeen = true;
      continue;
    }
    std::vector<std::string> cells;
    std::stringstream split(compact);
    std::string cell;
    while (std::getline(split, cell, ','))
      cells.push_back(cell);
    if (cells.size() != 6) {
      return Error::invalidInput(at(file, number) + ": expected 6 comma-separated values, got " +
                                 std::to_string(cells.size()));
    }
    double v[5];
    for (int k = 0; k < 5; ++k) {
      Result<double> parsed = parseNumber(cells[static_cast<std::size_t>(k) + 1], at(file, number));
      if (!parsed) return parsed.error();
      if (!std::isfinite(*parsed) || *parsed < 0) {
        return Error::invalidInput(at(file, number) + ": " +
                                   quote(cells[static_cast<std::size_t>(k) + 1]) +
                                   " must be a non-negative number");
      }
      v[k] = *parsed;
    }
    if (v[0] > 100) {
      return Error::invalidInput(at(file, number) + ": canary_weight " + formatNumber(v[0]) +
                                 " must be between 0 and 100");
    }
    if (v[2] > v[1]) {
      return Error::invalidInput(at(file, number) + ": canary_errors " + formatNumber(v[2]) +
                                 " exceed canary_requests " + formatNumber(v[1]));
    }
    if (v[4] > v[3]) {
      return Error::invalidInput(at(file, number) + ": primary_errors " + formatNumber(v[4]) +
                                 " exceed primary_requests " + formatNumber(v[3]));
    }
    auto [it, inserted] = index.emplace(cells[0], streams.size());
    if (inserted) streams.push_back({cells[0], {}});
    streams[it->second].second.push_back({number, {v[1], v[2], v[3], v[4]}});
  }
  if (!headerSeen)
    return Error::invalidInput(file + ": empty; expected the header " + std::string(kHeader));
  return streams;
}

}  // namespace

int runJudgeSequential(const JudgeSequentialOptions& o, std::ostream& out, std::ostream& err) {
  auto streams = readStreams(o.input);
  if (!streams) {
    err << "canaryd judge: " << streams.error().message() << "\n";
    return 1;
  }
  for (const auto& [name, rows] : *streams) {
    analysis::SequentialPolicy policy;
    policy.alpha = o.alpha;
    policy.maxIncrease = o.maxIncrease / 100;
    policy.minRatio = o.maxRatio;
    analysis::RateRatioTest test(policy);
    std::optional<int> decisionRow;
    bool anyData = false;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Verdict v = test.update(rows[i].counts);
      anyData = anyData || v != Verdict::kNoData;
      if (v == Verdict::kFail || v == Verdict::kPass) {
        decisionRow = static_cast<int>(i) + 1;
        break;
      }
    }
    Judgement final = test.judgement();
    std::string verdict = decisionRow ? std::string(analysis::toString(final.verdict))
                          : anyData   ? "inconclusive"
                                      : "nodata";
    nlohmann::json line = {
        {"stream", name},
        {"verdict", verdict},
        {"decisionRow", decisionRow ? nlohmann::json(*decisionRow) : nlohmann::json(nullptr)},
        {"eValue", optionalNumber(final.evidence.eValue.value_or(test.failEValue()))},
        {"failEValue", test.failEValue()},
        {"passEValue", test.passEValue()},
        {"rows", rows.size()},
        {"explanation", anyData ? final.evidence.explanation : "no interval had requests"},
    };
    out << line.dump() << "\n";
  }
  return 0;
}

}  // namespace canaryd::cli
