// WorkQueue: the controller's one queue of keys ("namespace/name") to reconcile.
//
// De-duplicating: a key queued twice is processed once, and a key is never handed out again
// while it is being processed (re-adds during processing are kept and delivered after done()).
// Delays come from the injected Clock: addAfter() (the analysis interval is a delayed re-add,
// not a thread per Canary) and addRateLimited() (per-key exponential backoff, 5ms doubling to
// 1000s as client-go, combined with a global token bucket, 10/s with a burst of 100).
// Fair across namespaces (setFairShare): the next key handed out is the oldest ready key of a
// namespace with the fewest keys in processing, and no namespace holds more than the share, so
// one namespace whose Canaries are slow (silent webhooks, a slow metrics server) cannot take
// every worker. Thread-safe. tryGet() never blocks, for deterministic tests with a
// VirtualClock; get() blocks in real time for the daemon.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"

namespace canaryd::runtime {

struct RateLimits {
  Duration baseDelay = std::chrono::milliseconds(5);
  Duration maxDelay = std::chrono::seconds(1000);
  double qps = 10;
  double burst = 100;
};

class WorkQueue {
 public:
  explicit WorkQueue(const Clock& clock, RateLimits limits = {});

  void add(const std::string& key);
  void addAfter(const std::string& key, Duration delay);
  // Re-adds after this key's backoff (doubling with each call until forget()) or the global
  // rate limit, whichever is longer.
  void addRateLimited(const std::string& key);
  void forget(const std::string& key);
  int retries(const std::string& key) const;

  // The next ready key, if any; it is processing until done(key).
  std::optional<std::string> tryGet();
  // Waits (real time) up to `timeout` for a ready key; nothing on timeout or shutdown.
  std::optional<std::string> get(std::chrono::milliseconds timeout);
  void done(const std::string& key);

  // When the earliest delayed key becomes ready, if any is waiting.
  std::optional<TimePoint> nextReadyTime() const;
  std::size_t length() const;  // ready keys
  void shutDown();
  bool shuttingDown() const;
  // Told, as each key is handed out, how long it waited ready and how many ready keys remain
  // (queue metrics). Called without the queue's lock held.
  void setObserver(std::function<void(Duration waited, std::size_t depth)> observer);
  // At most `perNamespace` keys of one namespace (the part of the key before '/') in
  // processing at once; 0: no limit, plain FIFO.
  void setFairShare(int perNamespace);

 private:
  void promoteDueLocked();
  // A delayed key is ready since it fell due (its wait counts from then).
  void addLocked(const std::string& key, std::optional<TimePoint> readySince = std::nullopt);
  void pushReadyLocked(const std::string& key, TimePoint readySince);
  // The position in queue_ of the key to hand out next, if any may be.
  std::optional<std::size_t> pickLocked() const;
  // Takes the key at `at`, unlocks, tells the observer.
  std::string handOut(std::unique_lock<std::mutex>& lock, std::size_t at);

  const Clock& clock_;
  RateLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued, or re-added while processing
  std::set<std::string> processing_;
  std::multimap<TimePoint, std::string> waiting_;
  std::map<std::string, int> failures_;
  std::map<std::string, TimePoint> readySince_;
  std::function<void(Duration, std::size_t)> observer_;
  double tokens_;
  TimePoint lastRefill_;
  bool shutDown_ = false;
  int fairShare_ = 0;
  std::map<std::string, int> busyByNamespace_;
};

}  // namespace canaryd::runtime
