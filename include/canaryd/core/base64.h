// Standard base64 (RFC 4648 with padding), for Secret data and HTTP Basic credentials.
#pragma once

#include <string>
#include <string_view>

#include "canaryd/core/result.h"

namespace canaryd {

std::string base64Encode(std::string_view data);
// Ignores line breaks and spaces; anything else outside the alphabet is an error naming `what`.
Result<std::string> base64Decode(std::string_view text, std::string_view what);

}  // namespace canaryd
