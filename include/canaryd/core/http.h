// HttpClient: HTTP/1.1 and HTTPS requests over libcurl, for the Kubernetes API, Prometheus,
// webhooks and notifiers.
//
// Only http and https are spoken (libcurl is limited to them, and redirects are not
// followed): a tenant's `file://` or `gopher://` URL is an error, never a read. Every answer
// is bounded in time (HttpRequest::timeout) and size (maxResponseBytes). With an
// AddressPolicy, a URL outside the operator's allow-list is refused before any connection.
// Messages show URLs without userinfo and query (redactUrl).
//
// One client owns one connection cache (keep-alive reuse across requests) and is NOT
// thread-safe: give each thread its own. Every failure is a Result error: a connection
// failure or timeout is kUnavailable (retryable); an HTTP error status is not an error here,
// it is returned in the response for the caller to interpret.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canaryd/core/address_policy.h"
#include "canaryd/core/result.h"

namespace canaryd {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // Whole request, including reading the body; 0 means no limit (watch streams).
  std::chrono::milliseconds timeout{5000};
  // A longer answer is an error naming the limit (send() only; stream() callers bound what
  // they keep themselves).
  std::size_t maxResponseBytes = kDefaultMaxResponseBytes;
  static constexpr std::size_t kDefaultMaxResponseBytes = 16u << 20;
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  // The first header of that (case-insensitive) name, or "".
  std::string header(std::string_view name) const;
};

struct TlsOptions {
  std::string caFile;    // PEM bundle to verify the server with
  std::string caData;    // or the PEM itself
  std::string certFile;  // client certificate (mutual TLS)
  std::string certData;
  std::string keyFile;
  std::string keyData;
  bool insecureSkipVerify = false;  // only when explicitly configured
};

// Told of every send(): the request, the answer's status (0 when there was none: connection
// failure or timeout) and how long it took. For request metrics; must be thread-safe when
// shared by clients of several threads.
using HttpObserver = std::function<void(const HttpRequest& request, int status, double seconds)>;

// Sends one request somewhere other than the network (the simulator's webhooks): where a
// component takes one, an empty transport means a real HttpClient.
using HttpTransport = std::function<Result<HttpResponse>(const HttpRequest& request)>;

struct HttpClientOptions {
  std::chrono::milliseconds connectTimeout{3000};
  TlsOptions tls;
  std::string proxy;      // empty: libcurl's environment defaults (http_proxy, no_proxy...)
  HttpObserver observer;  // optional; not told of stream() (watches)
  // The operator's allow-list for addresses that tenants' objects name (null: any address),
  // and what the requests are for ("metric", "webhook", "alert"), for its refusal counter.
  std::shared_ptr<const AddressPolicy> addresses;
  std::string purpose;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> send(const HttpRequest& request);

  // Sends the request and hands the body to `onData` as it arrives (watch streams). Returns
  // the status and headers when the stream ends, or when `onData` returns false (then the
  // connection is closed; that is not an error).
  Result<HttpResponse> stream(const HttpRequest& request,
                              const std::function<bool(std::string_view)>& onData);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes `text` for use in a URL query value or path segment.
std::string urlEncode(std::string_view text);

}  // namespace canaryd
