#include "canaryd/analysis/judgement.h"

namespace canaryd::analysis {

std::string_view toString(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kInconclusive:
      return "inconclusive";
    case Verdict::kNoData:
      return "nodata";
  }
  return "nodata";
}

std::string_view toString(Direction direction) {
  switch (direction) {
    case Direction::kNone:
      return "none";
    case Direction::kHigh:
      return "high";
    case Direction::kLow:
      return "low";
  }
  return "none";
}

}  // namespace canaryd::analysis
