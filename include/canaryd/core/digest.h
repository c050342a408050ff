// Keyed digests: what canaryd may show of secret data (Secret contents tracked in a Canary's
// status) without letting a reader of the status guess the data. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace canaryd {

// HMAC-SHA256 of `data` under `key`, as lower-case hex (64 characters).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

// `bytes` random bytes from the operating system's generator, for keys.
std::string randomBytes(std::size_t bytes);

}  // namespace canaryd
