#include "canaryd/core/digest.h"

#include <random>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace canaryd {

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

std::string randomBytes(std::size_t bytes) {
  std::random_device device;  // /dev/urandom (getrandom) on Linux
  std::string out(bytes, '\0');
  for (char& c : out)
    c = static_cast<char>(device() & 0xff);
  return out;
}

}  // namespace canaryd
