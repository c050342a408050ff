#include "kubesim/server.h"

#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "canaryd/core/clock.h"

#include "kubesim/api_error.h"
#include "kubesim/cluster_ips.h"
#include "kubesim/protobuf.h"
#include "kubesim/schema_validation.h"
#include "kubesim/server_side_apply.h"
#include "kubesim/strategic_merge.h"
#include "kubesim/table.h"

namespace canaryd::kubesim {
namespace {

// The host part of a Host header ("localhost:8080", "[::1]:80", "127.0.0.1") is a loopback name.
bool loopbackHost(const std::string& header) {
  std::string host = header;
  if (host.starts_with("[")) {
    host = host.substr(
        1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

std::string urlDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  std::string param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? "" : it->second;
  }
};

Target parseTarget(std::string_view target) {
  Target t;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      auto eq = pair.find('=');
      t.query[urlDecode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : urlDecode(pair.substr(eq + 1));
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
  }
  while (!path.empty()) {
    while (!path.empty() && path.front() == '/')
      path.remove_prefix(1);
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) t.segments.push_back(urlDecode(seg));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return t;
}

struct Faults {
  std::mutex mu;
  std::int64_t delayMs = 0;
  std::map<std::string, double> errorRates;  // verb -> probability
  int errorCode = 500;
  std::mt19937_64 rng{42};
};

// The request addressed to one resource collection or object.
struct ResourceRequest {
  ResourceType type;
  std::string ns;
  std::string name;
  std::string subresource;
};

}  // namespace

struct Server::Impl {
  ResourceRegistry& registry;
  Store& store;
  ServerOptions options;
  net::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread acceptThread;
  std::atomic<bool> stopping{false};
  Faults faults;
  std::mutex connectionsMu;
  std::list<std::shared_ptr<tcp::socket>> connections;
  std::map<std::uint64_t, std::thread> threads;  // connection threads by id
  std::vector<std::uint64_t> finished;           // ids whose thread has returned, to join
  std::uint64_t nextThreadId = 0;

  Impl(ResourceRegistry& r, Store& s, ServerOptions o) : registry(r), store(s), options(o) {}

  using Response = http::response<http::string_body>;

  Response jsonResponse(const http::request<http::string_body>& req, http::status status,
                        const json& body) {
    Response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body.dump();
    res.prepare_payload();
    return res;
  }

  Response errorResponse(const http::request<http::string_body>& req, const ApiError& e) {
    return jsonResponse(req, static_cast<http::status>(e.code), e.toStatus());
  }

  std::optional<ResourceRequest> resolve(const Target& t, std::size_t start,
                                         const std::string& group, const std::string& version) {
    const auto& s = t.segments;
    if (s.size() <= start) return std::nullopt;
    ResourceRequest r;
    std::size_t i = start;
    // /namespaces/{ns}/{resource}... unless it addresses the namespace object itself.
    if (s[i] == "namespaces" && s.size() >= i + 3 && s[i + 2] != "status" &&
        s[i + 2] != "finalize") {
      r.ns = s[i + 1];
      i += 2;
    }
    auto type = registry.find(group, version, s[i]);
    if (!type) throw ApiError{404, "NotFound", "the server could not find the requested resource"};
    r.type = *type;
    if (s.size() > i + 1) r.name = s[i + 1];
    if (s.size() > i + 2) r.subresource = s[i + 2];
    if (s.size() > i + 3 || (!r.subresource.empty() && r.subresource != "status")) {
      throw ApiError{404, "NotFound", "the server could not find the requested resource"};
    }
    return r;
  }

  void injectFaults(const std::string& verb) {
    std::int64_t delay = 0;
    bool fail = false;
    int code = 500;
    {
      std::lock_guard lock(faults.mu);
      delay = faults.delayMs;
      auto it = faults.errorRates.find(verb);
      if (it != faults.errorRates.end()) {
        fail = std::uniform_real_distribution<double>(0, 1)(faults.rng) < it->second;
      }
      code = faults.errorCode;
    }
    if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    if (fail) {
      ApiError e{code, code == 429 ? "TooManyRequests" : "InternalError",
                 "injected fault for verb " + verb};
      if (code == 429 || code == 503) e.details = {{"retryAfterSeconds", 1}};
      throw e;
    }
  }

  json handleAdmin(const Target& t, const std::string& body) {
    const std::string what = t.segments.size() > 1 ? t.segments[1] : "";
    if (what == "faults") {
      json config = json::parse(body.empty() ? "{}" : body, nullptr, false);
      if (config.is_null()) config = json::object();
      if (config.is_discarded() || !config.is_object())
        throw badRequest("faults: expected a JSON object");
      std::lock_guard lock(faults.mu);
      faults.delayMs = config.value("delayMs", std::int64_t{0});
      faults.errorCode = config.value("errorCode", 500);
      faults.errorRates.clear();
      const json rates = config.value("errorRates", json::object());
      for (auto it = rates.begin(); it != rates.end(); ++it) {
        if (it->is_number()) faults.errorRates[it.key()] = it->get<double>();
      }
      return {{"faults", config}};
    }
    if (what == "drop-watches") {
      store.dropWatches();
      return {{"dropped", true}};
    }
    if (what == "compact") {
      store.compact();
      return {{"compactedThrough", store.resourceVersion()}};
    }
    throw ApiError{404, "NotFound", "unknown admin endpoint"};
  }

  // Service writes one at a time, from reading the cluster IPs in use to the write that takes
  // one (the API server's allocator).
  std::mutex clusterIPsMu;

  // The cluster IPs in use, and the lock that keeps them so, while a Service is written;
  // inert for other types.
  struct ClusterIPs {
    std::unique_lock<std::mutex> lock;
    std::set<std::string> inUse;
    bool service = false;
    void assign(json& object, const json* current) const {
      if (service) assignClusterIP(object, current, inUse);
    }
    // Once the write is done; the answer is sent without the lock.
    void release() {
      if (lock.owns_lock()) lock.unlock();
    }
  };
  ClusterIPs reserveClusterIPs(const ResourceType& type) {
    ClusterIPs ips;
    if (!type.group.empty() || type.resource != "services") return ips;
    ips.service = true;
    ips.lock = std::unique_lock(clusterIPsMu);
    ips.inUse = clusterIPsInUse(store.list(type, "", ListQuery{})["items"]);
    return ips;
  }

  // The object a POST or PUT sends: JSON, or protobuf as kubectl's typed commands (kubectl
  // create namespace, secret, deployment, ...) send built-in kinds.
  json bodyObject(const http::request<http::string_body>& req, const ResourceType& type) {
    if (!isProtobufContentType(std::string(req[http::field::content_type]))) {
      json object = json::parse(req.body(), nullptr, false);
      if (object.is_discarded()) throw badRequest("the request body is not valid JSON");
      return object;
    }
    json object = decodeProtobuf(req.body());
    if (object["apiVersion"] != type.groupVersion() || object["kind"] != type.kind) {
      throw badRequest("the object provided is unrecognized (must be of type " + type.kind + " " +
                       type.groupVersion() + ", got " + object["kind"].get<std::string>() + " " +
                       object["apiVersion"].get<std::string>() + ")");
    }
    return object;
  }

  // Validates a custom resource against its schema (422), rejects unknown fields under
  // fieldValidation=Strict (400) and otherwise prunes them; defaults built-in kinds.
  void admit(const ResourceType& type, json& object, const Target& t) {
    applyDefaults(type, object);
    std::string mode = t.param("fieldValidation");
    if (!type.fromCrd) return;
    std::vector<std::string> unknown;
    std::vector<SchemaViolation> violations;
    validateAgainstSchema(object, type.schema, unknown, violations);
    if (!violations.empty()) {
      json causes = json::array();
      std::string message;
      for (const SchemaViolation& v : violations) {
        causes.push_back(
            {{"reason", "FieldValueInvalid"}, {"message", v.message}, {"field", v.field}});
        message += (message.empty() ? "" : ", ") + v.field + ": " + v.message;
      }
      std::string name = object.value("metadata", json::object()).value("name", "");
      throw ApiError{
          422,
          "Invalid",
          type.kind + "." + type.group + " \"" + name + "\" is invalid: " + message,
          {{"name", name}, {"group", type.group}, {"kind", type.kind}, {"causes", causes}}};
    }
    if (mode == "Strict" && !unknown.empty()) {
      std::string message = "strict decoding error: ";
      for (std::size_t i = 0; i < unknown.size(); ++i) {
        message += (i ? ", " : "") + std::string("unknown field \"") + unknown[i] + "\"";
      }
      throw badRequest(message);
    }
    if (!unknown.empty()) pruneUnknownFields(object, type.schema);
  }

  // An update or a non-apply patch: `next` makes the object to store from the stored one; it is
  // admitted (defaults, schema), its field owners recorded and, for a Service, its cluster IP
  // kept or allocated, all under the store's lock.
  json writeUpdate(const ResourceRequest& r, const Target& t, const FieldManagerWrite& write,
                   const std::function<json(const json&)>& next) {
    ClusterIPs ips = reserveClusterIPs(r.type);
    json result = store.patch(
        r.type, r.ns, r.name,
        [&](const json& current) {
          json object = next(current);
          if (!write.status) admit(r.type, object, t);
          object = recordUpdate(r.type, &current, std::move(object), write);
          if (!write.status) ips.assign(object, &current);
          return object;
        },
        write.status);
    ips.release();
    return result;
  }

  // Server-side apply: PATCH with application/apply-patch+yaml creates the object when it does
  // not exist (201 Created) and otherwise merges the configuration into it (200 OK).
  std::pair<http::status, json> serverSideApplyRequest(const http::request<http::string_body>& req,
                                                       const ResourceRequest& r, const Target& t,
                                                       const FieldManagerWrite& write) {
    if (t.param("fieldManager").empty()) {
      throw ApiError{422, "Invalid",
                     "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
                     "required for apply patch"};
    }
    const bool force = t.param("force") == "true" || t.param("force") == "1";
    const json applied = json::parse(req.body(), nullptr, false);
    if (applied.is_discarded()) {
      throw ApiError{415, "UnsupportedMediaType",
                     "kubesim reads an apply configuration as JSON (as kubectl and controllers "
                     "send it), not YAML"};
    }
    ClusterIPs ips = reserveClusterIPs(r.type);
    auto applyTo = [&](const json* live) {
      json next = serverSideApply(r.type, live, applied, r.name, write, force);
      if (!write.status) {
        admit(r.type, next, t);
        ips.assign(next, live);
      }
      return next;
    };
    // Create or merge; an object created or deleted meanwhile sends it round again.
    for (int attempt = 0; attempt < 5; ++attempt) {
      try {
        return {http::status::ok,
                store.patch(
                    r.type, r.ns, r.name, [&](const json& current) { return applyTo(&current); },
                    write.status)};
      } catch (const ApiError& e) {
        if (e.code != 404 || write.status) throw;
      }
      try {
        return {http::status::created, store.create(r.type, r.ns, applyTo(nullptr))};
      } catch (const ApiError& e) {
        if (e.code != 409 || e.reason != "AlreadyExists") throw;
      }
    }
    throw ApiError{409, "Conflict", "the object kept being created and deleted; try again"};
  }

  // Streams watch events until the client leaves, the watch is dropped or it times out.
  void serveWatch(tcp::socket& socket, const http::request<http::string_body>& req,
                  const ResourceRequest& r, const Target& t, bool asTable) {
    ListQuery query{t.param("labelSelector"), t.param("fieldSelector"), 0, ""};
    std::shared_ptr<Watcher> watcher;
    ApiError gone;
    bool expired = false;
    try {
      watcher = store.watch(r.type, r.ns, t.param("resourceVersion"), query);
    } catch (const ApiError& e) {
      if (e.code != 410) throw;
      gone = e;
      expired = true;
    }
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(socket, sr, ec);
    if (ec) {
      if (watcher) store.unwatch(watcher);
      return;
    }
    auto send = [&](const json& event) {
      std::string line = event.dump() + "\n";
      net::write(socket, http::make_chunk(net::buffer(line)), ec);
      return !ec;
    };
    if (expired) {
      send({{"type", "ERROR"}, {"object", gone.toStatus()}});
      net::write(socket, http::make_chunk_last(), ec);
      return;
    }
    try {
      streamEvents(socket, *watcher, r, t, asTable, send);
    } catch (const std::exception& ex) {
      // Headers are sent: report in the stream, as the API server does.
      send({{"type", "ERROR"},
            {"object",
             ApiError{500, "InternalError", std::string("kubesim: ") + ex.what()}.toStatus()}});
    }
    store.unwatch(watcher);
    net::write(socket, http::make_chunk_last(), ec);
  }

  template <typename Send>
  void streamEvents(tcp::socket&, Watcher& watcherRef, const ResourceRequest& r, const Target& t,
                    bool asTable, Send& send) {
    Watcher* watcher = &watcherRef;
    const bool bookmarks = t.param("allowWatchBookmarks") == "true";
    const std::string timeoutText = t.param("timeoutSeconds");
    const auto deadline = timeoutText.empty() ? std::chrono::steady_clock::time_point::max()
                                              : std::chrono::steady_clock::now() +
                                                    std::chrono::seconds(std::stoll(timeoutText));
    auto lastBookmark = std::chrono::steady_clock::now();
    Event e;
    while (!stopping && std::chrono::steady_clock::now() < deadline) {
      if (watcher->next(e, std::chrono::milliseconds(100))) {
        json object = asTable ? toTable(r.type, json::array({e.object}), true) : e.object;
        if (!send({{"type", e.type}, {"object", object}})) break;
        continue;
      }
      if (watcher->closed()) break;
      if (bookmarks &&
          std::chrono::steady_clock::now() - lastBookmark >= options.bookmarkInterval) {
        lastBookmark = std::chrono::steady_clock::now();
        json mark = {{"kind", r.type.kind},
                     {"apiVersion", r.type.groupVersion()},
                     {"metadata", {{"resourceVersion", std::to_string(store.resourceVersion())}}}};
        // Every event up to that version is queued already (pushed under the store's lock).
        if (watcher->next(e, std::chrono::milliseconds(0))) {
          json object = asTable ? toTable(r.type, json::array({e.object}), true) : e.object;
          if (!send({{"type", e.type}, {"object", object}})) break;
          continue;
        }
        if (!send({{"type", "BOOKMARK"}, {"object", mark}})) break;
      }
    }
  }

  // Handles one request; returns false when the connection must close (after a watch).
  bool handle(tcp::socket& socket, http::request<http::string_body>& req) {
    const Target t = parseTarget(std::string_view(req.target().data(), req.target().size()));
    const auto& s = t.segments;
    const std::string method(req.method_string());
    const std::string accept(req[http::field::accept]);
    const bool asTable = accept.find("as=Table") != std::string::npos;
    auto reply = [&](http::status status, const json& body) {
      Response res = jsonResponse(req, status, body);
      beast::error_code ec;
      http::write(socket, res, ec);
      return !ec && req.keep_alive();
    };
    try {
      if (!options.allowRemote && !loopbackHost(std::string(req[http::field::host]))) {
        throw ApiError{403, "Forbidden",
                       "kubesim answers only requests for localhost, 127.0.0.1 or [::1] (start it "
                       "with --allow-remote to serve others)"};
      }
      // A web page can send a cross-origin POST without asking first only as text/plain, a
      // form or multipart: every write must say JSON (or a JSON patch type), YAML or protobuf.
      if (method == "POST" || method == "PUT" || method == "PATCH") {
        const std::string type(req[http::field::content_type]);
        if (type.find("json") == std::string::npos && type.find("yaml") == std::string::npos &&
            !isProtobufContentType(type)) {
          throw ApiError{415, "UnsupportedMediaType",
                         "a write must be sent as application/json (or a JSON patch type), YAML "
                         "or Kubernetes protobuf, got " +
                             (type.empty() ? std::string("no Content-Type") : type)};
        }
        if (method == "PATCH" && isProtobufContentType(type)) {
          throw ApiError{415, "UnsupportedMediaType",
                         "a patch is JSON (application/json-patch+json, merge-patch+json, "
                         "strategic-merge-patch+json) or YAML (apply-patch+yaml), not protobuf"};
        }
      }
      if (s.empty()) return reply(http::status::ok, {{"paths", {"/api", "/apis", "/version"}}});
      if (s[0] == "version") {
        return reply(http::status::ok, {{"major", "1"},
                                        {"minor", "32"},
                                        {"gitVersion", "v1.32.0-kubesim"},
                                        {"platform", "linux/amd64"},
                                        {"goVersion", "kubesim"}});
      }
      if (s[0] == "healthz" || s[0] == "readyz" || s[0] == "livez") {
        Response res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/plain");
        res.body() = "ok";
        res.prepare_payload();
        beast::error_code ec;
        http::write(socket, res, ec);
        return !ec && req.keep_alive();
      }
      if (s[0] == "admin") {
        if (method != "POST") throw ApiError{405, "MethodNotAllowed", "admin endpoints take POST"};
        return reply(http::status::ok, handleAdmin(t, req.body()));
      }
      if (s[0] == "openapi") {
        if (s.size() >= 2 && s[1] == "v3") {
          if (s.size() == 2) return reply(http::status::ok, registry.openapiIndex());
          std::string path;
          for (std::size_t i = 2; i < s.size(); ++i)
            path += (i > 2 ? "/" : "") + s[i];
          if (auto doc = registry.openapiDocument(path)) return reply(http::status::ok, *doc);
        }
        throw ApiError{404, "NotFound", "the server could not find the requested resource"};
      }
      std::optional<ResourceRequest> r;
      if (s[0] == "api") {
        if (s.size() == 1) return reply(http::status::ok, registry.discoveryCore());
        if (s.size() == 2) {
          if (auto d = registry.discoveryResources("", s[1])) return reply(http::status::ok, *d);
          throw ApiError{404, "NotFound", "the server could not find the requested resource"};
        }
        r = resolve(t, 2, "", s[1]);
      } else if (s[0] == "apis") {
        if (s.size() == 1) return reply(http::status::ok, registry.discoveryGroups());
        if (s.size() == 2) {
          json groups = registry.discoveryGroups();
          for (const json& g : groups["groups"]) {
            if (g["name"] == s[1]) {
              json group = g;
              group["kind"] = "APIGroup";
              group["apiVersion"] = "v1";
              return reply(http::status::ok, group);
            }
          }
          throw ApiError{404, "NotFound", "the server could not find the requested resource"};
        }
        if (s.size() == 3) {
          if (auto d = registry.discoveryResources(s[1], s[2])) return reply(http::status::ok, *d);
          throw ApiError{404, "NotFound", "the server could not find the requested resource"};
        }
        r = resolve(t, 3, s[1], s[2]);
      }
      if (!r) throw ApiError{404, "NotFound", "the server could not find the requested resource"};
      const bool status = r->subresource == "status";
      if (status && !r->type.statusSubresource) {
        throw ApiError{404, "NotFound", "the server could not find the requested resource"};
      }
      FieldManagerWrite write;
      write.manager = t.param("fieldManager");
      if (write.manager.size() > 128) {
        throw badRequest("fieldManager: Too long: may not be more than 128 bytes");
      }
      if (write.manager.empty()) {
        write.manager = managerFromUserAgent(std::string(req[http::field::user_agent]));
      }
      write.status = status;
      write.time = formatRfc3339(std::chrono::system_clock::now());

      if (method == "GET") {
        const bool watch = t.param("watch") == "true" || t.param("watch") == "1";
        if (watch) {
          injectFaults("watch");
          serveWatch(socket, req, *r, t, asTable);
          return false;
        }
        if (r->name.empty()) {
          injectFaults("list");
          ListQuery query{t.param("labelSelector"), t.param("fieldSelector"), 0,
                          t.param("continue")};
          if (!t.param("limit").empty()) query.limit = std::stoll(t.param("limit"));
          json list = store.list(r->type, r->ns, query);
          if (asTable) {
            json table = toTable(r->type, list["items"], false);
            table["metadata"] = list["metadata"];
            return reply(http::status::ok, table);
          }
          return reply(http::status::ok, list);
        }
        injectFaults("get");
        json object = store.get(r->type, r->ns, r->name);
        return reply(http::status::ok,
                     asTable ? toTable(r->type, json::array({object}), false) : object);
      }
      if (method == "POST") {
        injectFaults("create");
        if (!r->name.empty()) throw ApiError{405, "MethodNotAllowed", "POST to a collection only"};
        json object = bodyObject(req, r->type);
        if (!object.is_object()) throw badRequest("the request body must be a JSON object");
        admit(r->type, object, t);
        ClusterIPs ips = reserveClusterIPs(r->type);
        object = recordUpdate(r->type, nullptr, std::move(object), write);
        ips.assign(object, nullptr);  // after: an allocated address is no manager's field
        if (t.param("dryRun") != "All") object = store.create(r->type, r->ns, object);
        ips.release();
        return reply(http::status::created, object);
      }
      if (method == "PUT") {
        injectFaults("update");
        json object = bodyObject(req, r->type);
        if (!object.is_object()) throw badRequest("the request body must be a JSON object");
        return reply(http::status::ok,
                     writeUpdate(*r, t, write, [&](const json&) { return object; }));
      }
      if (method == "PATCH") {
        injectFaults("patch");
        const std::string contentType(req[http::field::content_type]);
        const ResourceType type = r->type;
        if (contentType.starts_with("application/apply-patch+yaml")) {
          auto [code, body] = serverSideApplyRequest(req, *r, t, write);
          return reply(code, body);
        }
        return reply(http::status::ok, writeUpdate(*r, t, write, [&](const json& current) {
                       return applyPatch(type, current, contentType, req.body());
                     }));
      }
      if (method == "DELETE") {
        injectFaults("delete");
        DeleteOptions deletion;
        deletion.propagationPolicy = t.param("propagationPolicy");
        json body = json::parse(req.body().empty() ? "{}" : req.body(), nullptr, false);
        if (body.is_object()) {
          if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string()) {
            deletion.propagationPolicy = body["propagationPolicy"];
          }
          const json pre = body.value("preconditions", json::object());
          deletion.preconditionUid = pre.value("uid", "");
          deletion.preconditionResourceVersion = pre.value("resourceVersion", "");
        }
        if (r->name.empty())
          throw ApiError{405, "MethodNotAllowed", "deletecollection is not supported"};
        return reply(http::status::ok, store.remove(r->type, r->ns, r->name, deletion));
      }
      throw ApiError{405, "MethodNotAllowed", "method " + method + " is not supported"};
    } catch (const ApiError& e) {
      Response res = errorResponse(req, e);
      if (e.details.contains("retryAfterSeconds")) {
        res.set(http::field::retry_after,
                std::to_string(e.details["retryAfterSeconds"].get<int>()));
      }
      beast::error_code ec;
      http::write(socket, res, ec);
      return !ec && req.keep_alive();
    } catch (const std::exception& e) {
      Response res =
          errorResponse(req, {500, "InternalError", std::string("kubesim: ") + e.what()});
      beast::error_code ec;
      http::write(socket, res, ec);
      return false;
    }
  }

  void serveConnection(std::shared_ptr<tcp::socket> socket, std::uint64_t id) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      http::read(*socket, buffer, parser, ec);
      if (ec) break;
      http::request<http::string_body> req = parser.release();
      if (!handle(*socket, req)) break;
    }
    socket->shutdown(tcp::socket::shutdown_both, ec);
    socket->close(ec);
    std::lock_guard lock(connectionsMu);
    connections.remove(socket);
    finished.push_back(id);
  }

  // Joins the threads of connections that have ended, so that a long-lived kubesim does not
  // accumulate one finished thread per kubectl call.
  void reapLocked() {
    for (std::uint64_t id : finished) {
      auto it = threads.find(id);
      if (it == threads.end()) continue;
      if (it->second.joinable()) it->second.join();
      threads.erase(it);
    }
    finished.clear();
  }

  void acceptLoop() {
    while (!stopping) {
      auto socket = std::make_shared<tcp::socket>(io);
      beast::error_code ec;
      acceptor->accept(*socket, ec);
      if (ec) {
        if (stopping) break;
        continue;
      }
      std::lock_guard lock(connectionsMu);
      reapLocked();
      connections.push_back(socket);
      const std::uint64_t id = nextThreadId++;
      threads.emplace(id, std::thread([this, socket, id] { serveConnection(socket, id); }));
    }
  }
};

Server::Server(ResourceRegistry& registry, Store& store, ServerOptions options)
    : impl_(std::make_unique<Impl>(registry, store, options)) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::start() {
  auto address = net::ip::make_address(impl_->options.host);
  impl_->acceptor =
      std::make_unique<tcp::acceptor>(impl_->io, tcp::endpoint(address, impl_->options.port));
  std::uint16_t port = impl_->acceptor->local_endpoint().port();
  impl_->acceptThread = std::thread([this] { impl_->acceptLoop(); });
  return port;
}

void Server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  beast::error_code ec;
  if (impl_->acceptor) {
    // A blocking accept() does not notice close(); a connection of our own wakes it.
    try {
      tcp::socket wake(impl_->io);
      wake.connect(impl_->acceptor->local_endpoint(), ec);
    } catch (const std::exception&) {
    }
    impl_->acceptor->close(ec);
  }
  {
    std::lock_guard lock(impl_->connectionsMu);
    for (auto& s : impl_->connections)
      s->shutdown(tcp::socket::shutdown_both, ec);
  }
  impl_->store.dropWatches();
  if (impl_->acceptThread.joinable()) impl_->acceptThread.join();
  std::map<std::uint64_t, std::thread> threads;
  {
    std::lock_guard lock(impl_->connectionsMu);
    threads.swap(impl_->threads);
    impl_->finished.clear();
  }
  for (auto& [id, t] : threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace canaryd::kubesim
