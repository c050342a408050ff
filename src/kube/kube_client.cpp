#include "canaryd/kube/kube_client.h"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"

namespace canaryd::kube {
namespace {

using cluster::ObjectRef;
using cluster::Resource;
using nlohmann::json;

std::string collectionPath(const Resource& r, const std::string& ns) {
  std::string path = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) path += "/namespaces/" + urlEncode(ns);
  return path + "/" + r.resource;
}

std::string objectPath(const Resource& r, const ObjectRef& ref) {
  return collectionPath(r, ref.namespace_) + "/" + urlEncode(ref.name);
}

std::string describe(const Resource& r, const ObjectRef& ref) {
  std::string what = r.resource + (r.group.empty() ? "" : "." + r.group) + " ";
  return what + (ref.namespace_.empty() ? "" : ref.namespace_ + "/") + ref.name;
}

void addQuery(std::string& url, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  url += (url.find('?') == std::string::npos ? '?' : '&');
  url += key + "=" + urlEncode(value);
}

// The most canaryd reads of one answer (a page of a list, one watch event).
constexpr std::size_t kMaxAnswerBytes = 128u << 20;
constexpr std::size_t kMaxDepth = 256;
// One object in a watch stream (etcd keeps objects below 1.5 MiB by default).
constexpr std::size_t kMaxEventBytes = 16u << 20;

// Request bodies: a string that is not valid UTF-8 (which only outside bytes can put there) is
// written with U+FFFD instead of making the JSON writer throw.
std::string wire(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool retryable(int status) {
  return status == 429 || status >= 500;
}

}  // namespace

Result<api::JsonValue> interpretResponse(int status, std::string_view body, std::string_view what) {
  jsonread::Limits limits;
  limits.maxBytes = kMaxAnswerBytes;
  limits.maxDepth = kMaxDepth;
  Result<json> parsed = jsonread::parse(body, "the API server", limits);
  if (status >= 200 && status < 300) {
    if (!parsed || !parsed->is_object()) {
      return Error::unavailable(std::string(what) + ": the API server answered " +
                                std::to_string(status) + " with a body that is not a JSON object" +
                                (parsed ? "" : " (" + parsed.error().message() + ")"));
    }
    return api::JsonValue(std::move(*parsed));
  }
  std::string message;
  if (parsed && jsonread::string(*parsed, "kind") == "Status") {
    message = jsonread::string(*parsed, "message");
    const json* details = jsonread::object(*parsed, "details");
    const json* causes = details == nullptr ? nullptr : jsonread::array(*details, "causes");
    if (causes != nullptr) {
      for (const json& cause : *causes) {
        if (!cause.is_object()) continue;
        std::string field = jsonread::string(cause, "field");
        std::string text = jsonread::string(cause, "message");
        if (message.find(text) == std::string::npos) {
          message += "; " + (field.empty() ? "" : field + ": ") + text;
        }
      }
    }
  }
  if (message.empty()) {
    message =
        "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + jsonread::snippet(body));
  }
  return Error(errorKindForHttpStatus(status), std::string(what) + ": " + message);
}

struct KubeClient::Impl {
  ConnectionConfig config;
  ClientOptions options;
  std::mutex poolMu;
  std::vector<std::unique_ptr<HttpClient>> pool;
  std::mutex tokenMu;
  std::string cachedToken;
  struct timespec tokenMtime {};

  std::unique_ptr<HttpClient> acquire() {
    std::lock_guard lock(poolMu);
    if (!pool.empty()) {
      auto c = std::move(pool.back());
      pool.pop_back();
      return c;
    }
    HttpClientOptions o;
    o.connectTimeout = options.connectTimeout;
    o.tls = config.tls;
    o.observer = options.observer;
    return std::make_unique<HttpClient>(o);
  }
  void release(std::unique_ptr<HttpClient> c) {
    std::lock_guard lock(poolMu);
    pool.push_back(std::move(c));
  }

  // The bearer token, re-read from its file whenever the file changes (rotation).
  std::string token() {
    if (config.tokenFile.empty()) return config.token;
    std::lock_guard lock(tokenMu);
    struct stat st {};
    if (stat(config.tokenFile.c_str(), &st) == 0 &&
        (st.st_mtim.tv_sec != tokenMtime.tv_sec || st.st_mtim.tv_nsec != tokenMtime.tv_nsec)) {
      std::ifstream in(config.tokenFile);
      std::stringstream s;
      s << in.rdbuf();
      cachedToken = s.str();
      while (!cachedToken.empty() && (cachedToken.back() == '\n' || cachedToken.back() == '\r')) {
        cachedToken.pop_back();
      }
      tokenMtime = st.st_mtim;
    }
    return cachedToken;
  }

  HttpRequest request(const std::string& method, const std::string& pathAndQuery,
                      std::string body = {}, std::string contentType = "application/json") {
    HttpRequest r;
    r.method = method;
    r.url = config.server + pathAndQuery;
    // Every write names one field manager, so that server-side apply, Argo CD's
    // managedFieldsManagers and Flux can tell canaryd's fields from Git's.
    if (method == "POST" || method == "PUT" || method == "PATCH") {
      r.url += (pathAndQuery.find('?') == std::string::npos ? "?" : "&") +
               std::string("fieldManager=") + urlEncode(options.fieldManager);
    }
    r.timeout = options.requestTimeout;
    r.maxResponseBytes = kMaxAnswerBytes;
    r.headers = {{"Accept", "application/json"}, {"User-Agent", options.userAgent}};
    if (!body.empty()) r.headers.emplace_back("Content-Type", contentType);
    if (std::string t = token(); !t.empty()) r.headers.emplace_back("Authorization", "Bearer " + t);
    r.body = std::move(body);
    return r;
  }

  void pause(std::chrono::milliseconds d) {
    if (options.sleep) {
      options.sleep(d);
    } else {
      std::this_thread::sleep_for(d);
    }
  }

  // Sends with retries on connection errors, 429 and 5xx; honours Retry-After.
  Result<api::JsonValue> call(const HttpRequest& req, const std::string& what) {
    std::chrono::milliseconds backoff = options.initialBackoff;
    for (int attempt = 0;; ++attempt) {
      auto client = acquire();
      Result<HttpResponse> response = client->send(req);
      release(std::move(client));
      const bool last = attempt >= options.maxRetries;
      if (!response) {
        if (last) return response.error().withContext(what);
        pause(backoff);
      } else if (retryable(response->status) && !last) {
        std::chrono::milliseconds wait = backoff;
        std::string retryAfter = response->header("retry-after");
        if (!retryAfter.empty() && std::all_of(retryAfter.begin(), retryAfter.end(), [](char c) {
              return std::isdigit(static_cast<unsigned char>(c));
            })) {
          wait = std::min<std::chrono::milliseconds>(std::chrono::seconds(std::stoll(retryAfter)),
                                                     options.maxBackoff);
        }
        pause(wait);
      } else {
        return interpretResponse(response->status, response->body, what);
      }
      backoff = std::min(backoff * 2, options.maxBackoff);
    }
  }
};

KubeClient::KubeClient(ConnectionConfig config, ClientOptions options)
    : impl_(std::make_unique<Impl>()) {
  while (!config.server.empty() && config.server.back() == '/')
    config.server.pop_back();
  impl_->config = std::move(config);
  impl_->options = std::move(options);
}

KubeClient::~KubeClient() = default;

Result<api::JsonValue> KubeClient::get(const Resource& r, const ObjectRef& ref) {
  return impl_->call(impl_->request("GET", objectPath(r, ref)), "get " + describe(r, ref));
}

Result<cluster::ObjectList> KubeClient::list(const Resource& r, const std::string& ns,
                                             const cluster::ListOptions& o) {
  std::string url = collectionPath(r, ns);
  addQuery(url, "labelSelector", o.labelSelector);
  addQuery(url, "fieldSelector", o.fieldSelector);
  if (o.limit > 0) addQuery(url, "limit", std::to_string(o.limit));
  addQuery(url, "continue", o.continueToken);
  std::string what = "list " + r.resource + (ns.empty() ? "" : " in " + ns);
  Result<api::JsonValue> answer = impl_->call(impl_->request("GET", url), what);
  if (!answer) return answer.error();
  const json& body = answer->get();
  if (!body.contains("items") || !(body["items"].is_array() || body["items"].is_null())) {
    return Error::unavailable(what + ": the answer has no items list");
  }
  cluster::ObjectList out;
  if (body["items"].is_array()) {
    out.items.reserve(body["items"].size());
    for (const json& item : body["items"]) {
      if (!item.is_object()) return Error::unavailable(what + ": an item is not an object");
      out.items.emplace_back(item);
    }
  }
  const json meta = body.value("metadata", json::object());
  if (meta.is_object()) {
    if (meta.contains("resourceVersion") && meta["resourceVersion"].is_string()) {
      out.resourceVersion = meta["resourceVersion"];
    }
    if (meta.contains("continue") && meta["continue"].is_string())
      out.continueToken = meta["continue"];
  }
  return out;
}

namespace {

Result<ObjectRef> refOf(const api::JsonValue& object) {
  const json& o = object.get();
  if (!o.is_object() || !o.contains("metadata") || !o["metadata"].is_object() ||
      !o["metadata"].contains("name") || !o["metadata"]["name"].is_string()) {
    return Error::invalidInput("the object has no metadata.name");
  }
  return ObjectRef{jsonread::string(o["metadata"], "namespace"), o["metadata"]["name"]};
}

}  // namespace

Result<api::JsonValue> KubeClient::create(const Resource& r, const std::string& ns,
                                          const api::JsonValue& object) {
  json body = object.get();
  if (!body.is_object()) return Error::invalidInput("create " + r.resource + ": not a JSON object");
  if (!body.contains("apiVersion")) body["apiVersion"] = r.apiVersion();
  if (!body.contains("kind")) body["kind"] = r.kind;
  std::string name = body.value("metadata", json::object()).value("name", "");
  return impl_->call(impl_->request("POST", collectionPath(r, ns), wire(body)),
                     "create " + describe(r, {ns, name}));
}

Result<api::JsonValue> KubeClient::update(const Resource& r, const api::JsonValue& object) {
  Result<ObjectRef> ref = refOf(object);
  if (!ref) return ref.error().withContext("update " + r.resource);
  return impl_->call(impl_->request("PUT", objectPath(r, *ref), wire(object.get())),
                     "update " + describe(r, *ref));
}

Result<api::JsonValue> KubeClient::updateStatus(const Resource& r, const api::JsonValue& object) {
  Result<ObjectRef> ref = refOf(object);
  if (!ref) return ref.error().withContext("update status of " + r.resource);
  return impl_->call(impl_->request("PUT", objectPath(r, *ref) + "/status", wire(object.get())),
                     "update status of " + describe(r, *ref));
}

Result<api::JsonValue> KubeClient::patch(const Resource& r, const ObjectRef& ref,
                                         cluster::PatchType type, std::string_view body,
                                         bool status) {
  const char* contentType = type == cluster::PatchType::kMerge ? "application/merge-patch+json"
                            : type == cluster::PatchType::kJson
                                ? "application/json-patch+json"
                                : "application/strategic-merge-patch+json";
  return impl_->call(impl_->request("PATCH", objectPath(r, ref) + (status ? "/status" : ""),
                                    std::string(body), contentType),
                     "patch " + describe(r, ref));
}

Status KubeClient::remove(const Resource& r, const ObjectRef& ref,
                          const cluster::DeleteOptions& o) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagationPolicy.empty()) body["propagationPolicy"] = o.propagationPolicy;
  if (!o.preconditionUid.empty()) body["preconditions"]["uid"] = o.preconditionUid;
  if (!o.preconditionResourceVersion.empty()) {
    body["preconditions"]["resourceVersion"] = o.preconditionResourceVersion;
  }
  Result<api::JsonValue> answer = impl_->call(
      impl_->request("DELETE", objectPath(r, ref), wire(body)), "delete " + describe(r, ref));
  if (!answer) return answer.error();
  return {};
}

Status KubeClient::watch(const Resource& r, const std::string& ns, const cluster::WatchOptions& o,
                         const std::function<bool(const cluster::WatchEvent&)>& onEvent) {
  std::string url = collectionPath(r, ns) + "?watch=true";
  addQuery(url, "resourceVersion", o.resourceVersion);
  if (o.allowBookmarks) addQuery(url, "allowWatchBookmarks", "true");
  addQuery(url, "labelSelector", o.labelSelector);
  addQuery(url, "fieldSelector", o.fieldSelector);
  if (o.timeout.count() > 0) addQuery(url, "timeoutSeconds", std::to_string(o.timeout.count()));
  HttpRequest req = impl_->request("GET", url);
  req.timeout = std::chrono::milliseconds(0);  // streams last as long as the server keeps them
  const std::string what = "watch " + r.resource + (ns.empty() ? "" : " in " + ns);

  std::string pending;
  std::optional<Error> failure;
  bool stopped = false;
  auto onData = [&](std::string_view chunk) {
    // Only the new bytes are searched for the end of a line: a long line is not rescanned
    // with every chunk.
    std::size_t searchFrom = pending.size();
    pending.append(chunk);
    std::size_t newline;
    while ((newline = pending.find('\n', searchFrom)) != std::string::npos) {
      searchFrom = 0;
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.empty()) continue;
      Result<json> parsed = jsonread::parse(line, what, {kMaxEventBytes, kMaxDepth});
      json event = parsed ? std::move(*parsed) : json(json::value_t::discarded);
      if (event.is_object() && jsonread::string(event, "kind") == "Status" &&
          !event.contains("type")) {
        const int code = static_cast<int>(jsonread::integer(event, "code").value_or(500));
        failure = Error(code == 410 ? ErrorKind::kExpired : errorKindForHttpStatus(code),
                        what + ": " + jsonread::string(event, "message", "watch refused"));
        return false;
      }
      if (event.is_discarded() || !event.is_object() || !event.contains("type") ||
          !event["type"].is_string() || !event.contains("object") || !event["object"].is_object()) {
        failure = Error::unavailable(what + ": malformed watch event: " + jsonread::snippet(line));
        return false;
      }
      const std::string type = event["type"];
      if (type == "ERROR") {
        const json& status = event["object"];
        const int code = static_cast<int>(jsonread::integer(status, "code").value_or(500));
        failure = Error(code == 410 ? ErrorKind::kExpired : errorKindForHttpStatus(code),
                        what + ": " + jsonread::string(status, "message", "watch error"));
        return false;
      }
      cluster::WatchEvent e;
      if (type == "ADDED") {
        e.type = cluster::WatchEvent::Type::kAdded;
      } else if (type == "MODIFIED") {
        e.type = cluster::WatchEvent::Type::kModified;
      } else if (type == "DELETED") {
        e.type = cluster::WatchEvent::Type::kDeleted;
      } else if (type == "BOOKMARK") {
        e.type = cluster::WatchEvent::Type::kBookmark;
      } else {
        failure = Error::unavailable(what + ": unknown watch event type " + quote(type));
        return false;
      }
      if (const json* meta = jsonread::object(event["object"], "metadata")) {
        e.resourceVersion = jsonread::string(*meta, "resourceVersion");
      }
      e.object = api::JsonValue(std::move(event["object"]));
      if (!onEvent(e)) {
        stopped = true;
        return false;
      }
    }
    if (pending.size() > kMaxEventBytes) {
      failure = Error::unavailable(what + ": a watch event longer than the limit of " +
                                   std::to_string(kMaxEventBytes) + " bytes");
      return false;
    }
    return true;
  };
  HttpClientOptions http;
  http.connectTimeout = impl_->options.connectTimeout;
  http.tls = impl_->config.tls;
  HttpClient client(http);  // a watch holds its connection for as long as it lasts
  Result<HttpResponse> response = client.stream(req, onData);
  if (failure) return *failure;
  if (!response) return response.error().withContext(what);
  if (stopped) return {};
  const bool partial = pending.find_first_not_of(" \t\r\n") != std::string::npos;
  if (response->status >= 200 && response->status < 300 && partial) {
    return Error::unavailable(
        what + ": the stream ended in the middle of an event: " + jsonread::snippet(pending));
  }
  if (response->status < 200 || response->status >= 300) {
    Result<api::JsonValue> err = interpretResponse(response->status, pending, what);
    return err ? Error::unavailable(what + ": HTTP " + std::to_string(response->status))
               : err.error();
  }
  return {};
}

}  // namespace canaryd::kube
