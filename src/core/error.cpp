#include "canaryd/core/error.h"

namespace canaryd {

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput:
      return "invalid-input";
    case ErrorKind::kNotFound:
      return "not-found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kExpired:
      return "expired";
  }
  return "internal";
}

Error Error::withContext(std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += message_;
  return {kind_, std::move(message)};
}

}  // namespace canaryd
