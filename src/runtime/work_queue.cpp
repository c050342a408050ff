#include "canaryd/runtime/work_queue.h"

#include <algorithm>
#include <cmath>

namespace canaryd::runtime {

WorkQueue::WorkQueue(const Clock& clock, RateLimits limits)
    : clock_(clock), limits_(limits), tokens_(limits.burst), lastRefill_(clock.now()) {}

void WorkQueue::addLocked(const std::string& key, std::optional<TimePoint> readySince) {
  if (shutDown_ || dirty_.contains(key)) return;
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // delivered again after done()
  pushReadyLocked(key, readySince.value_or(clock_.now()));
}

void WorkQueue::pushReadyLocked(const std::string& key, TimePoint readySince) {
  queue_.push_back(key);
  readySince_[key] = readySince;
  cv_.notify_one();
}

namespace {

std::string namespaceOf(const std::string& key) {
  return key.substr(0, key.find('/'));
}

}  // namespace

std::optional<std::size_t> WorkQueue::pickLocked() const {
  if (queue_.empty()) return std::nullopt;
  if (fairShare_ <= 0) return 0;
  std::optional<std::size_t> best;
  int fewest = fairShare_;  // a namespace at its share gets nothing more
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    auto it = busyByNamespace_.find(namespaceOf(queue_[i]));
    const int busy = it == busyByNamespace_.end() ? 0 : it->second;
    if (busy < fewest) {
      best = i;
      fewest = busy;
      if (busy == 0) break;  // the oldest key of an idle namespace
    }
  }
  return best;
}

void WorkQueue::setFairShare(int perNamespace) {
  std::lock_guard lock(mu_);
  fairShare_ = perNamespace;
}

std::string WorkQueue::handOut(std::unique_lock<std::mutex>& lock, std::size_t at) {
  std::string key = queue_[at];
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(at));
  dirty_.erase(key);
  processing_.insert(key);
  ++busyByNamespace_[namespaceOf(key)];
  auto since = readySince_.find(key);
  const Duration waited =
      since == readySince_.end() ? Duration::zero() : clock_.now() - since->second;
  if (since != readySince_.end()) readySince_.erase(since);
  const std::size_t depth = queue_.size();
  auto observer = observer_;
  lock.unlock();
  if (observer) observer(waited, depth);
  return key;
}

void WorkQueue::setObserver(std::function<void(Duration, std::size_t)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) return add(key);
  std::lock_guard lock(mu_);
  if (shutDown_) return;
  const TimePoint when = clock_.now() + delay;
  // Keep only the earliest pending time per key.
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->second == key) {
      if (it->first <= when) return;
      waiting_.erase(it);
      break;
    }
  }
  waiting_.emplace(when, key);
  cv_.notify_one();
}

void WorkQueue::addRateLimited(const std::string& key) {
  Duration delay;
  {
    std::lock_guard lock(mu_);
    const int n = failures_[key]++;
    const double factor = std::pow(2.0, std::min(n, 62));
    const double nanos = std::min(static_cast<double>(limits_.baseDelay.count()) * factor,
                                  static_cast<double>(limits_.maxDelay.count()));
    Duration itemDelay(static_cast<Duration::rep>(nanos));
    // Token bucket: refill since the last reservation, then take one token (possibly owed).
    const TimePoint now = clock_.now();
    const double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
    tokens_ = std::min(limits_.burst, tokens_ + elapsed * limits_.qps);
    lastRefill_ = now;
    tokens_ -= 1;
    Duration bucketDelay = tokens_ >= 0
                               ? Duration::zero()
                               : std::chrono::duration_cast<Duration>(
                                     std::chrono::duration<double>(-tokens_ / limits_.qps));
    delay = std::max(itemDelay, bucketDelay);
  }
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::retries(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promoteDueLocked() {
  const TimePoint now = clock_.now();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    const TimePoint due = waiting_.begin()->first;
    waiting_.erase(waiting_.begin());
    addLocked(key, due);
  }
}

std::optional<std::string> WorkQueue::tryGet() {
  std::unique_lock lock(mu_);
  promoteDueLocked();
  const std::optional<std::size_t> at = pickLocked();
  if (!at) return std::nullopt;
  return handOut(lock, *at);
}

std::optional<std::string> WorkQueue::get(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (true) {
    promoteDueLocked();
    if (pickLocked() || shutDown_) break;
    auto wake = deadline;
    if (!waiting_.empty()) {
      auto untilDue = waiting_.begin()->first - clock_.now();
      wake = std::min(
          wake, std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(untilDue));
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    cv_.wait_until(lock, wake);
  }
  const std::optional<std::size_t> at = pickLocked();
  if (!at || shutDown_) return std::nullopt;
  return handOut(lock, *at);
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  if (processing_.erase(key) > 0) {
    auto busy = busyByNamespace_.find(namespaceOf(key));
    if (busy != busyByNamespace_.end() && --busy->second <= 0) busyByNamespace_.erase(busy);
  }
  if (dirty_.contains(key)) pushReadyLocked(key, clock_.now());
  if (fairShare_ > 0) cv_.notify_all();  // a namespace below its share again may be served
}

std::optional<TimePoint> WorkQueue::nextReadyTime() const {
  std::lock_guard lock(mu_);
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

std::size_t WorkQueue::length() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutDown_ = true;
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutDown_;
}

}  // namespace canaryd::runtime
