#include "canaryd/cluster/typed.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/core/base64.h"

namespace canaryd::cluster {
namespace {

template <typename T>
Result<T> decode(const Result<api::JsonValue>& object,
                 Result<T> (*fromJson)(const api::JsonValue&)) {
  if (!object) return object.error();
  return fromJson(*object);
}

}  // namespace

Result<api::Canary> getCanary(Client& client, const ObjectRef& ref) {
  return decode<api::Canary>(client.get(kCanaries, ref), &api::canaryFromJson);
}

Result<std::vector<api::Canary>> listCanaries(Client& client, const std::string& ns) {
  std::vector<api::Canary> out;
  ListOptions options;
  options.limit = 500;
  do {
    Result<ObjectList> page = client.list(kCanaries, ns, options);
    if (!page) return page.error();
    for (const api::JsonValue& item : page->items) {
      Result<api::Canary> canary = api::canaryFromJson(item);
      if (!canary) return canary.error();
      out.push_back(std::move(canary).value());
    }
    options.continueToken = page->continueToken;
  } while (!options.continueToken.empty());
  return out;
}

Result<std::string> updateCanaryStatus(Client& client, const api::Canary& canary) {
  Result<api::JsonValue> written = client.updateStatus(kCanaries, api::toJsonValue(canary));
  if (!written) return written.error();
  const nlohmann::json& metadata = written->get().value("metadata", nlohmann::json::object());
  return metadata.value("resourceVersion", std::string());
}

Result<api::MetricTemplate> getMetricTemplate(Client& client, const ObjectRef& ref) {
  return decode<api::MetricTemplate>(client.get(kMetricTemplates, ref),
                                     &api::metricTemplateFromJson);
}

Result<api::AlertProvider> getAlertProvider(Client& client, const ObjectRef& ref) {
  return decode<api::AlertProvider>(client.get(kAlertProviders, ref), &api::alertProviderFromJson);
}

Result<std::map<std::string, std::string>> readSecret(Client& client, const ObjectRef& ref,
                                                      const std::vector<std::string>& keys) {
  const std::string name = "secret " + ref.namespace_ + "/" + ref.name;
  Result<api::JsonValue> secret = client.get(kSecrets, ref);
  if (!secret) return secret.error().withContext(name);
  const nlohmann::json data = secret->get().value("data", nlohmann::json::object());
  std::map<std::string, std::string> out;
  for (const std::string& key : keys) {
    if (!data.contains(key) || !data[key].is_string()) continue;
    Result<std::string> value =
        base64Decode(data[key].get<std::string>(), "data." + key + " of " + name);
    if (!value) return value.error();
    out[key] = *value;
  }
  return out;
}

}  // namespace canaryd::cluster
