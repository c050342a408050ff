#include "canaryd/core/base64.h"

#include <boost/beast/core/detail/base64.hpp>

namespace canaryd {

namespace b64 = boost::beast::detail::base64;

std::string base64Encode(std::string_view data) {
  std::string out(b64::encoded_size(data.size()), '\0');
  out.resize(b64::encode(out.data(), data.data(), data.size()));
  return out;
}

Result<std::string> base64Decode(std::string_view text, std::string_view what) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  }
  std::string out(b64::decoded_size(compact.size()), '\0');
  const auto [written, read] = b64::decode(out.data(), compact.data(), compact.size());
  // Beast stops at the padding; what it did not read must be nothing but padding.
  const std::string_view rest = std::string_view(compact).substr(read);
  if (compact.size() % 4 != 0 || rest.size() > 2 ||
      rest.find_first_not_of('=') != std::string_view::npos) {
    return Error::invalidInput(std::string(what) + " is not valid base64");
  }
  out.resize(written);
  return out;
}

}  // namespace canaryd
