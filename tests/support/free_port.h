// A loopback port that was free a moment ago, for servers that cannot pick their own (Prometheus).
#pragma once

#include "canaryd/core/free_port.h"

namespace canaryd::testing {

inline int freePort() {
  return freeLoopbackPort();
}

}  // namespace canaryd::testing
