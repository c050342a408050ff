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

ErrorKind errorKindForHttpStatus(int status) {
  switch (status) {
    case 400:
    case 401:
    case 403:
    case 415:
    case 422:
      return ErrorKind::kInvalidInput;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kExpired;
    default:
      return status == 429 || status >= 500 ? ErrorKind::kUnavailable : ErrorKind::kInternal;
  }
}

}  // namespace canaryd
