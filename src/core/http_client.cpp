#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

#include <curl/curl.h>
#include <sys/socket.h>

#include "canaryd/core/http.h"
#include "canaryd/core/text.h"

namespace canaryd {
namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse* response;
  const std::function<bool(std::string_view)>* onData;
  std::size_t maxBytes = 0;
  const AddressPolicy* addresses = nullptr;
  bool stoppedByCaller = false;
  bool tooLarge = false;
  bool addressRefused = false;
};

size_t writeBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->onData != nullptr) {
    if (!(*t->onData)(std::string_view(data, n))) {
      t->stoppedByCaller = true;
      return 0;  // makes curl abort the transfer
    }
    return n;
  }
  if (t->response->body.size() + n > t->maxBytes) {
    t->tooLarge = true;
    return 0;
  }
  t->response->body.append(data, n);
  return n;
}

// Called for each address curl is about to connect to: the allow-list's CIDR entries decide.
curl_socket_t openSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && t->addresses != nullptr &&
      !t->addresses->allowsSocketAddress(&address->addr)) {
    t->addressRefused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

size_t writeHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after a redirect or 100-continue)
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers.emplace_back(lowercase(line.substr(0, colon)), std::string(value));
  return n;
}

void setBlob(CURL* curl, CURLoption option, const std::string& data) {
  curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  std::string wanted = lowercase(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return {};
}

struct HttpClient::Impl {
  HttpClientOptions options;
  CURL* curl = nullptr;

  Result<HttpResponse> perform(const HttpRequest& request,
                               const std::function<bool(std::string_view)>* onData) {
    curl_easy_reset(curl);  // keeps the connection cache
    const std::string shownUrl = redactUrl(request.url);
    const std::string scheme = lowercase(request.url.substr(0, 8));
    if (!scheme.starts_with("http://") && !scheme.starts_with("https://")) {
      const auto colon = request.url.find("://");
      const std::string what = colon == std::string::npos || colon > 16
                                   ? "a URL without a scheme"
                                   : "a " + quote(request.url.substr(0, colon)) + " URL";
      return Error::invalidInput(what + ": only http and https URLs are allowed");
    }
    for (const auto& [name, value] : request.headers) {
      // A token from a Secret with a line break would add headers (or a request) of its own.
      if ((name + value).find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return Error::invalidInput(shownUrl + ": the header " + quote(name) +
                                   " holds a line break or NUL (from a Secret or a manifest)");
      }
    }
    HttpResponse response;
    Transfer transfer{&response, onData, request.maxResponseBytes};
    const AddressPolicy* policy = options.addresses.get();
    if (policy != nullptr && policy->restricts()) {
      AddressPolicy::Verdict verdict = policy->checkUrl(request.url);
      if (!options.proxy.empty() && verdict != AddressPolicy::Verdict::kRefused) {
        // Through a proxy, only the proxy's address is ours to see: the target must be allowed
        // by its URL, and the proxy by its URL or address.
        if (verdict == AddressPolicy::Verdict::kIfAddressFits) {
          verdict = AddressPolicy::Verdict::kRefused;
        } else {
          const std::string proxy = options.proxy.find("://") == std::string::npos
                                        ? "http://" + options.proxy
                                        : options.proxy;
          verdict = policy->checkUrl(proxy);
          if (verdict == AddressPolicy::Verdict::kRefused) {
            policy->refused(options.purpose);
            return Error::invalidInput("the proxy " + AddressPolicy::refusal(proxy));
          }
        }
      }
      switch (verdict) {
        case AddressPolicy::Verdict::kAllowed:
          break;
        case AddressPolicy::Verdict::kIfAddressFits:
          transfer.addresses = policy;
          curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, openSocket);
          curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer);
          // A reused connection was opened for another URL: decide on a fresh one.
          curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
          break;
        case AddressPolicy::Verdict::kRefused:
          policy->refused(options.purpose);
          return Error::invalidInput(AddressPolicy::refusal(request.url));
      }
    }
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connectTimeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, writeBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, writeHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    if (!options.proxy.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, options.proxy.c_str());

    const TlsOptions& tls = options.tls;
    if (tls.insecureSkipVerify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tls.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, tls.caFile.c_str());
    if (!tls.caData.empty()) setBlob(curl, CURLOPT_CAINFO_BLOB, tls.caData);
    if (!tls.certFile.empty()) curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.certFile.c_str());
    if (!tls.certData.empty()) setBlob(curl, CURLOPT_SSLCERT_BLOB, tls.certData);
    if (!tls.keyFile.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.keyFile.c_str());
    if (!tls.keyData.empty()) setBlob(curl, CURLOPT_SSLKEY_BLOB, tls.keyData);

    if (request.method == "GET") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    if (code == CURLE_WRITE_ERROR && transfer.stoppedByCaller) return response;
    if (transfer.tooLarge) {
      return Error::unavailable(request.method + " " + shownUrl +
                                ": the answer is larger than the limit of " +
                                std::to_string(request.maxResponseBytes) + " bytes");
    }
    if (transfer.addressRefused) {
      policy->refused(options.purpose);
      return Error::invalidInput(AddressPolicy::refusal(request.url) +
                                 ": it resolves outside the allowed ranges");
    }
    if (code != CURLE_OK) {
      std::string detail = errorBuffer[0] != 0 ? errorBuffer : curl_easy_strerror(code);
      // curl's own message may repeat the URL with its query (tokens): drop it.
      if (const auto at = detail.find(request.url); at != std::string::npos) {
        detail.replace(at, request.url.size(), shownUrl);
      }
      return Error::unavailable(request.method + " " + shownUrl + ": " + detail);
    }
    return response;
  }
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  globalInit();
  impl_->options = std::move(options);
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) {
  if (impl_->curl == nullptr) return Error::internal("libcurl could not be initialised");
  if (!impl_->options.observer) return impl_->perform(request, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = impl_->perform(request, nullptr);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  impl_->options.observer(request, response ? response->status : 0, took.count());
  return response;
}

Result<HttpResponse> HttpClient::stream(const HttpRequest& request,
                                        const std::function<bool(std::string_view)>& onData) {
  if (impl_->curl == nullptr) return Error::internal("libcurl could not be initialised");
  return impl_->perform(request, &onData);
}

std::string urlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace canaryd
