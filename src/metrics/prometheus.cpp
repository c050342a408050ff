// The Prometheus provider: GET <address>/api/v1/query?query=..., as Flagger's.
#include "metrics/prometheus.h"

#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "canaryd/core/base64.h"
#include "canaryd/core/http.h"
#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"
#include "canaryd/metrics/prometheus.h"

namespace canaryd::metrics {
namespace {

using nlohmann::json;

// Prometheus' own cap on the points of one range query series.
constexpr std::size_t kMaxRangePoints = 11000;
// Series named in the message when several came back where one was expected.
constexpr std::size_t kSeriesShown = 3;

// A sample value as Prometheus encodes it: [time, "0.5"] (the value a string: "NaN", "+Inf").
Result<double> sampleValue(const json* value, const std::string& server, const std::string& query) {
  if (value == nullptr || !value->is_array() || value->size() != 2 || !(*value)[1].is_string()) {
    return Error::unavailable("Prometheus " + server + " answered a malformed sample for " +
                              quote(query) + ": " +
                              (value == nullptr ? "none" : jsonread::snippet(value->dump(), 100)));
  }
  const std::string& text = (*value)[1].get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') {
    return Error::unavailable("Prometheus " + server + " answered a non-numeric sample " +
                              quote(jsonread::snippet(text, 100)));
  }
  return v;
}

// Several series where one number was expected: the first few, so the user can aggregate.
Error severalSeries(const std::string& server, const std::string& query, const json& result) {
  std::vector<std::string> labels;
  for (const json& series : result) {
    if (labels.size() == kSeriesShown) {
      labels.push_back("...");
      break;
    }
    const json* metric = jsonread::object(series, "metric");
    labels.push_back(metric == nullptr ? "{}" : jsonread::snippet(metric->dump(), 300));
  }
  return Error::invalidInput("Prometheus " + server + ": the query " + quote(query) + " returned " +
                             std::to_string(result.size()) + " series where one was expected: " +
                             join(labels, ", ") + "; aggregate it (sum, avg, ...)");
}

}  // namespace

PrometheusProvider::PrometheusProvider(ProviderConfig config) : config_(std::move(config)) {
  while (!config_.address.empty() && config_.address.back() == '/')
    config_.address.pop_back();
  server_ = redactUrl(config_.address);
}

Result<json> PrometheusProvider::get(const std::string& pathAndQuery, const std::string& query) {
  if (config_.address.empty()) {
    return Error::invalidInput(
        "the Prometheus address is empty (set spec.provider.address of "
        "the MetricTemplate, or canaryd run --metrics-server)");
  }
  HttpClientOptions options;
  options.tls.insecureSkipVerify = config_.insecureSkipVerify;
  options.tls.caFile = config_.caFile;
  options.observer = config_.observer;
  options.addresses = config_.addresses;
  options.purpose = "metric";
  HttpClient http(options);
  HttpRequest request;
  request.url = config_.address + pathAndQuery;
  request.timeout = config_.timeout;
  request.maxResponseBytes = config_.maxResponseBytes;
  if (!config_.bearerToken.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + config_.bearerToken);
  } else if (!config_.username.empty()) {
    request.headers.emplace_back(
        "Authorization", "Basic " + base64Encode(config_.username + ":" + config_.password));
  }
  for (const auto& [name, values] : config_.headers) {
    for (const std::string& v : values)
      request.headers.emplace_back(name, v);
  }
  Result<HttpResponse> response = http.send(request);
  auto backoff = config_.retryBackoff;
  for (int attempt = 0; attempt < config_.retries &&
                        (!response || (response->status >= 500 && response->status <= 599)) &&
                        (response || response.error().retryable());
       ++attempt) {
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
    response = http.send(request);
  }
  if (!response) {
    if (response.error().kind() == ErrorKind::kInvalidInput) {  // refused before sending
      return response.error().withContext("Prometheus " + server_ + " not queried");
    }
    return Error::unavailable("Prometheus " + server_ +
                              " did not answer: " + response.error().message());
  }
  jsonread::Limits limits;
  limits.maxBytes = config_.maxResponseBytes;
  Result<json> parsed = jsonread::parse(
      response->body, "Prometheus " + server_ + " (HTTP " + std::to_string(response->status) + ")",
      limits);
  if (!parsed) return parsed.error();
  const json& body = *parsed;
  if (!body.is_object()) {
    return Error::unavailable("Prometheus " + server_ + " answered HTTP " +
                              std::to_string(response->status) +
                              " with JSON that is not an object");
  }
  if (jsonread::string(body, "status") != "success") {
    const std::string errorType = jsonread::string(body, "errorType", "error");
    const std::string message =
        "Prometheus " + server_ + " refused the query " + quote(query) + ": " +
        jsonread::snippet(errorType, 100) + ": " +
        jsonread::snippet(
            jsonread::string(body, "error", "HTTP " + std::to_string(response->status)), 500);
    // A bad query is the user's to fix; anything else may pass.
    if (response->status == 400 || errorType == "bad_data") return Error::invalidInput(message);
    return Error::unavailable(message);
  }
  const json* data = jsonread::object(body, "data");
  if (data == nullptr) {
    return Error::unavailable("Prometheus " + server_ + " answered success without a data object");
  }
  return *data;
}

Result<double> PrometheusProvider::query(const std::string& query) {
  Result<json> data = get("/api/v1/query?query=" + urlEncode(query), query);
  if (!data) return data.error();
  const std::string type = jsonread::string(*data, "resultType");
  const json* result = jsonread::member(*data, "result");
  std::optional<double> value;
  if (type == "scalar") {
    Result<double> v = sampleValue(result, server_, query);
    if (!v) return v.error();
    value = *v;
  } else if (type == "vector") {
    if (result == nullptr || !result->is_array()) {
      return Error::unavailable("Prometheus " + server_ +
                                " answered a vector whose result is not an array");
    }
    if (result->size() > 1) return severalSeries(server_, query, *result);
    for (const json& series : *result) {
      if (!series.is_object()) {
        return Error::unavailable(
            "Prometheus " + server_ +
            " answered a series that is not an object: " + jsonread::snippet(series.dump(), 100));
      }
      Result<double> v = sampleValue(jsonread::member(series, "value"), server_, query);
      if (!v) return v.error();
      value = *v;
    }
  } else {
    return Error::invalidInput(
        "Prometheus " + server_ + ": the query " + quote(query) + " returned " +
        (type.empty() ? "no resultType" : "a " + jsonread::snippet(type, 40)) +
        "; a check needs an instant vector or a scalar");
  }
  if (!value || !std::isfinite(*value)) {
    return Error::notFound("no values found for the query " + quote(query) +
                           (value ? " (it returned " + formatNumber(*value) + ")" : ""));
  }
  return *value;
}

Result<std::vector<double>> PrometheusProvider::queryRange(const std::string& query,
                                                           TimePoint start, TimePoint end,
                                                           Duration step) {
  auto unix = [](TimePoint t) {
    return std::to_string(std::chrono::duration<double>(t.time_since_epoch()).count());
  };
  const double stepSeconds = std::max(1.0, std::chrono::duration<double>(step).count());
  Result<json> data =
      get("/api/v1/query_range?query=" + urlEncode(query) + "&start=" + unix(start) +
              "&end=" + unix(end) + "&step=" + formatNumber(stepSeconds),
          query);
  if (!data) return data.error();
  const std::string type = jsonread::string(*data, "resultType");
  const json* result = jsonread::array(*data, "result");
  if (type != "matrix" || result == nullptr) {
    return Error::unavailable(
        "Prometheus " + server_ + " answered " +
        (type.empty() ? "no resultType" : "a " + jsonread::snippet(type, 40)) +
        " to a range query");
  }
  if (result->empty()) return Error::notFound("no values found for the query " + quote(query));
  if (result->size() > 1) return severalSeries(server_, query, *result);
  const json* points = jsonread::array((*result)[0], "values");
  if (points == nullptr) {
    return Error::unavailable("Prometheus " + server_ + " answered a series without values");
  }
  if (points->size() > kMaxRangePoints) {
    return Error::unavailable("Prometheus " + server_ + " answered " +
                              std::to_string(points->size()) + " points, more than the limit of " +
                              std::to_string(kMaxRangePoints));
  }
  std::vector<double> values;
  for (const json& point : *points) {
    Result<double> v = sampleValue(&point, server_, query);
    if (!v) return v.error();
    values.push_back(*v);
  }
  return values;
}

Result<std::map<std::string, double>> PrometheusProvider::queryByLabel(const std::string& query,
                                                                       const std::string& label) {
  Result<json> data = get("/api/v1/query?query=" + urlEncode(query), query);
  if (!data) return data.error();
  const json* result = jsonread::array(*data, "result");
  if (jsonread::string(*data, "resultType") != "vector" || result == nullptr) {
    return Error::invalidInput("Prometheus " + server_ + ": the query " + quote(query) +
                               " did not return an instant vector");
  }
  if (result->empty()) return Error::notFound("no values found for the query " + quote(query));
  if (result->size() > kMaxLabelledSeries) {
    return Error::invalidInput("Prometheus " + server_ + ": the query " + quote(query) +
                               " returned " + std::to_string(result->size()) +
                               " series, more than the limit of " +
                               std::to_string(kMaxLabelledSeries));
  }
  std::map<std::string, double> out;
  for (const json& series : *result) {
    const json* metric = series.is_object() ? jsonread::object(series, "metric") : nullptr;
    const json* key = metric == nullptr ? nullptr : jsonread::member(*metric, label);
    if (key == nullptr || !key->is_string()) {
      return Error::invalidInput("Prometheus " + server_ + ": a series of " + quote(query) +
                                 " has no label " + quote(label) + ": " +
                                 jsonread::snippet(series.dump(), 200));
    }
    Result<double> v = sampleValue(jsonread::member(series, "value"), server_, query);
    if (!v) return v.error();
    if (!out.emplace(key->get<std::string>(), *v).second) {
      return Error::invalidInput(
          "Prometheus " + server_ + ": two series of " + quote(query) + " have " + label + "=" +
          quote(jsonread::snippet(key->get<std::string>(), 100)) + "; aggregate by " + label);
    }
  }
  return out;
}

std::unique_ptr<Provider> makePrometheusProvider(const ProviderConfig& config) {
  return std::make_unique<PrometheusProvider>(config);
}

std::vector<MetricProviderPlugin> prometheusProviders() {
  return {{{"prometheus", nullptr},
           [](const ProviderConfig& config) -> Result<std::unique_ptr<Provider>> {
             return makePrometheusProvider(config);
           }}};
}

}  // namespace canaryd::metrics
