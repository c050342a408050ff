// RollbackListener: told of each rollback of an analysed revision, after the Canary's status
// says Failed. Git write-back listens (gitops/write_back_runner.h): Git still names the
// revision that was rolled back. rolledBack() returns at once; the work runs on the listener's
// own thread, never on a reconcile worker, and a failure never undoes the rollback.
#pragma once

#include "canaryd/api/canary.h"
#include "canaryd/api/json_value.h"

namespace canaryd::controller {

class RollbackListener {
 public:
  virtual ~RollbackListener() = default;
  // `involved`: the Canary as read (for events); `status`: the status just written.
  virtual void rolledBack(const api::Canary& canary, const api::JsonValue& involved,
                          const api::CanaryStatus& status) = 0;
};

}  // namespace canaryd::controller
