// The Prometheus provider: GET <address>/api/v1/query?query=..., as Flagger's.
#include "metrics/prometheus.h"

#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "canaryd/core/base64.h"
#include "canaryd/core/http.h"
#include "canaryd/core/text.h"

namespace canaryd::metrics {
namespace {

using nlohmann::json;

// A sample value as Prometheus encodes it: a JSON string ("0.5", "NaN", "+Inf").
Result<double> sampleValue(const json& value, const std::string& query) {
  if (!value.is_array() || value.size() != 2 || !value[1].is_string()) {
    return Error::unavailable("Prometheus answered a malformed sample for " + quote(query));
  }
  const std::string text = value[1].get<std::string>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) {
    return Error::unavailable("Prometheus answered a non-numeric sample " + quote(text));
  }
  return v;
}

// Several series where one number was expected: which ones, so the user can aggregate.
Error severalSeries(const std::string& query, const json& result) {
  std::vector<std::string> labels;
  for (const json& series : result)
    labels.push_back(series.value("metric", json::object()).dump());
  return Error::invalidInput(
      "the query " + quote(query) + " returned " + std::to_string(result.size()) +
      " series where one was expected: " + join(labels, ", ") + "; aggregate it (sum, avg, ...)");
}

}  // namespace

PrometheusProvider::PrometheusProvider(ProviderConfig config) : config_(std::move(config)) {
  while (!config_.address.empty() && config_.address.back() == '/')
    config_.address.pop_back();
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
  HttpClient http(options);
  HttpRequest request;
  request.url = config_.address + pathAndQuery;
  request.timeout = config_.timeout;
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
                        (!response || (response->status >= 500 && response->status <= 599));
       ++attempt) {
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
    response = http.send(request);
  }
  if (!response) {
    return Error::unavailable("Prometheus " + config_.address +
                              " did not answer: " + response.error().message());
  }
  json body = json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Error::unavailable("Prometheus " + config_.address + " answered HTTP " +
                              std::to_string(response->status) + " with a body that is not JSON");
  }
  if (body.value("status", "") != "success") {
    const std::string message = "Prometheus refused the query " + quote(query) + ": " +
                                body.value("errorType", "error") + ": " +
                                body.value("error", "HTTP " + std::to_string(response->status));
    // A bad query is the user's to fix; anything else may pass.
    if (response->status == 400 || body.value("errorType", "") == "bad_data") {
      return Error::invalidInput(message);
    }
    return Error::unavailable(message);
  }
  return body.value("data", json::object());
}

Result<double> PrometheusProvider::query(const std::string& query) {
  Result<json> data = get("/api/v1/query?query=" + urlEncode(query), query);
  if (!data) return data.error();
  const std::string type = data->value("resultType", "");
  const json result = data->value("result", json::array());
  std::optional<double> value;
  if (type == "scalar") {
    Result<double> v = sampleValue(result, query);
    if (!v) return v.error();
    value = *v;
  } else if (type == "vector") {
    if (result.size() > 1) return severalSeries(query, result);
    for (const json& series : result) {
      Result<double> v = sampleValue(series.value("value", json()), query);
      if (!v) return v.error();
      value = *v;
    }
  } else {
    return Error::invalidInput("the query " + quote(query) + " returned a " + type +
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
  if (data->value("resultType", "") != "matrix") {
    return Error::unavailable("Prometheus answered a " + data->value("resultType", "") +
                              " to a range query");
  }
  const json result = data->value("result", json::array());
  if (result.empty()) return Error::notFound("no values found for the query " + quote(query));
  if (result.size() > 1) return severalSeries(query, result);
  std::vector<double> values;
  for (const json& point : result[0].value("values", json::array())) {
    Result<double> v = sampleValue(point, query);
    if (!v) return v.error();
    values.push_back(*v);
  }
  return values;
}

Result<std::unique_ptr<Provider>> makeProvider(const ProviderConfig& config) {
  if (config.type == "prometheus" || config.type.empty()) {
    return std::unique_ptr<Provider>(std::make_unique<PrometheusProvider>(config));
  }
  return Error::invalidInput("metric provider type " + quote(config.type) +
                             " is not supported; supported: prometheus");
}

}  // namespace canaryd::metrics
