#include "canaryd/core/address_policy.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <variant>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace canaryd {
namespace {

namespace ip = boost::asio::ip;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The parts of a URL that the policy and the redaction need, as libcurl parses them.
struct UrlParts {
  std::string scheme;
  std::string host;  // lower case; IPv6 without brackets
  std::string port;  // "" when the scheme's default
  std::string path;
};

std::optional<UrlParts> parseUrl(std::string_view url) {
  CURLU* handle = curl_url();
  if (handle == nullptr) return std::nullopt;
  std::optional<UrlParts> out;
  if (curl_url_set(handle, CURLUPART_URL, std::string(url).c_str(), CURLU_NON_SUPPORT_SCHEME) ==
      CURLUE_OK) {
    auto part = [&](CURLUPart which, unsigned flags = 0) {
      char* value = nullptr;
      std::string text;
      if (curl_url_get(handle, which, &value, flags) == CURLUE_OK && value != nullptr) {
        text = value;
      }
      curl_free(value);
      return text;
    };
    UrlParts parts;
    parts.scheme = lower(part(CURLUPART_SCHEME));
    parts.host = lower(part(CURLUPART_HOST));
    parts.port = part(CURLUPART_PORT);
    parts.path = part(CURLUPART_PATH);
    if (parts.host.size() > 2 && parts.host.front() == '[' && parts.host.back() == ']') {
      parts.host = parts.host.substr(1, parts.host.size() - 2);
    }
    if (!parts.scheme.empty() && !parts.host.empty()) out = std::move(parts);
  }
  curl_url_cleanup(handle);
  return out;
}

std::string origin(const UrlParts& p) {
  const bool v6 = p.host.find(':') != std::string::npos;
  return p.scheme + "://" + (v6 ? "[" + p.host + "]" : p.host) +
         (p.port.empty() ? "" : ":" + p.port);
}

using Network = std::variant<ip::network_v4, ip::network_v6>;

std::optional<Network> parseNetwork(const std::string& entry) {
  boost::system::error_code ec;
  if (entry.find('/') != std::string::npos) {
    if (entry.find(':') != std::string::npos) {
      auto n = ip::make_network_v6(entry, ec);
      if (!ec) return n;
    } else {
      auto n = ip::make_network_v4(entry, ec);
      if (!ec) return n;
    }
    return std::nullopt;
  }
  ip::address a = ip::make_address(entry, ec);
  if (ec) return std::nullopt;
  if (a.is_v4()) return ip::network_v4(a.to_v4(), 32);
  return ip::network_v6(a.to_v6(), 128);
}

bool contains(const Network& n, const ip::address& a) {
  if (const auto* v4 = std::get_if<ip::network_v4>(&n)) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
      return contains(n, ip::make_address_v4(ip::v4_mapped, a.to_v6()));
    }
    return a.is_v4() && (a.to_v4().to_uint() & v4->netmask().to_uint()) == v4->network().to_uint();
  }
  const auto& v6 = std::get<ip::network_v6>(n);
  if (!a.is_v6()) return false;
  const auto bytes = a.to_v6().to_bytes();
  const auto net = v6.network().to_bytes();
  const unsigned length = v6.prefix_length();
  for (unsigned bit = 0; bit < length; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if ((bytes[bit / 8] & mask) != (net[bit / 8] & mask)) return false;
  }
  return true;
}

// A host name as an entry may give it: letters, digits, '-', '.', and a leading "*.".
bool isHostName(std::string_view s) {
  if (s.starts_with("*.")) s.remove_prefix(2);
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

struct AddressPolicy::Impl {
  std::vector<std::string> hosts;  // lower case, maybe "*.domain"
  std::vector<Network> networks;
  struct Prefix {
    std::string origin;  // scheme://host[:port], lower case
    std::string path;    // as written, "/" at least
  };
  std::vector<Prefix> prefixes;
  std::vector<std::string> socketPaths;
  std::function<void(const std::string&)> hook;
};

AddressPolicy::AddressPolicy() : impl_(std::make_unique<Impl>()) {}
AddressPolicy::~AddressPolicy() = default;
AddressPolicy::AddressPolicy(AddressPolicy&&) noexcept = default;
AddressPolicy& AddressPolicy::operator=(AddressPolicy&&) noexcept = default;

Result<AddressPolicy> AddressPolicy::parse(const std::vector<std::string>& entries) {
  AddressPolicy policy;
  for (const std::string& entry : entries) {
    if (entry.starts_with("unix:/")) {
      policy.impl_->socketPaths.push_back(entry.substr(5));
    } else if (entry.find("://") != std::string::npos) {
      std::optional<UrlParts> url = parseUrl(entry);
      if (!url || (url->scheme != "http" && url->scheme != "https")) {
        return Error::invalidInput("--allow-address " + entry +
                                   ": a URL prefix must be an http or https URL with a host");
      }
      policy.impl_->prefixes.push_back({origin(*url), url->path.empty() ? "/" : url->path});
    } else if (std::optional<Network> network = parseNetwork(entry)) {
      policy.impl_->networks.push_back(*network);
    } else if (isHostName(entry) && entry.find('/') == std::string::npos) {
      policy.impl_->hosts.push_back(lower(entry));
    } else {
      return Error::invalidInput(
          "--allow-address " + entry +
          ": not a host name, an IP address or CIDR, a URL prefix or unix:/path");
    }
  }
  return policy;
}

bool AddressPolicy::restricts() const {
  return !impl_->hosts.empty() || !impl_->networks.empty() || !impl_->prefixes.empty() ||
         !impl_->socketPaths.empty();
}

bool AddressPolicy::allowsSocketPath(std::string_view path) const {
  if (!restricts()) return true;
  return std::find(impl_->socketPaths.begin(), impl_->socketPaths.end(), path) !=
         impl_->socketPaths.end();
}

AddressPolicy::Verdict AddressPolicy::checkUrl(std::string_view url) const {
  if (!restricts()) return Verdict::kAllowed;
  std::optional<UrlParts> parts = parseUrl(url);
  if (!parts) return Verdict::kRefused;
  for (const std::string& host : impl_->hosts) {
    if (host.starts_with("*.")) {
      const std::string_view domain = std::string_view(host).substr(1);  // ".example.com"
      if (parts->host.ends_with(domain) || parts->host == host.substr(2)) return Verdict::kAllowed;
    } else if (parts->host == host) {
      return Verdict::kAllowed;
    }
  }
  const std::string urlOrigin = origin(*parts);
  const std::string path = parts->path.empty() ? "/" : parts->path;
  for (const Impl::Prefix& prefix : impl_->prefixes) {
    if (urlOrigin != prefix.origin) continue;
    // "/api" allows "/api" and "/api/v1/query", not "/apix".
    if (path == prefix.path || (path.starts_with(prefix.path) &&
                                (prefix.path.back() == '/' || path[prefix.path.size()] == '/'))) {
      return Verdict::kAllowed;
    }
  }
  if (impl_->networks.empty()) return Verdict::kRefused;
  // A literal address is decided here; a name only once it is resolved.
  boost::system::error_code ec;
  const ip::address literal = ip::make_address(parts->host, ec);
  if (!ec) {
    for (const Network& n : impl_->networks) {
      if (contains(n, literal)) return Verdict::kAllowed;
    }
    return Verdict::kRefused;
  }
  return Verdict::kIfAddressFits;
}

bool AddressPolicy::allowsSocketAddress(const sockaddr* address) const {
  if (address == nullptr) return false;
  ip::address a;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    a = ip::address_v4(ntohl(in->sin_addr.s_addr));
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    ip::address_v6::bytes_type bytes;
    std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), bytes.begin());
    a = ip::address_v6(bytes);
  } else {
    return false;
  }
  for (const Network& n : impl_->networks) {
    if (contains(n, a)) return true;
  }
  return false;
}

std::string AddressPolicy::refusal(std::string_view url) {
  return redactUrl(url, false) +
         " is not an allowed address (canaryd run --allow-address lists the addresses that "
         "templates, webhooks, alert providers and runtime APIs may reach)";
}

void AddressPolicy::onRefusal(std::function<void(const std::string& purpose)> hook) {
  impl_->hook = std::move(hook);
}

void AddressPolicy::refused(const std::string& purpose) const {
  if (impl_->hook) impl_->hook(purpose);
}

std::string redactUrl(std::string_view url, bool keepPath) {
  std::optional<UrlParts> parts = parseUrl(url);
  if (!parts) return "(unparsable URL)";
  if (!keepPath) return origin(*parts) + (parts->path.empty() || parts->path == "/" ? "" : "/...");
  return origin(*parts) + (parts->path == "/" ? "" : parts->path);
}

}  // namespace canaryd
