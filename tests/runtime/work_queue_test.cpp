#include "canaryd/runtime/work_queue.h"

#include <gtest/gtest.h>

namespace canaryd::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  VirtualClock clock;
  WorkQueue q(clock);
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.length(), 2u);
  EXPECT_EQ(q.tryGet(), "a");
  EXPECT_EQ(q.tryGet(), "b");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueueTest, TellsTheObserverHowLongEachKeyWaitedReadyAndWhatRemains) {
  VirtualClock clock;
  WorkQueue q(clock);
  std::vector<std::pair<Duration, std::size_t>> seen;
  q.setObserver([&](Duration waited, std::size_t depth) { seen.emplace_back(waited, depth); });
  q.add("a");
  clock.advance(seconds(2));
  q.add("b");
  q.addAfter("c", seconds(10));
  clock.advance(seconds(3));
  ASSERT_EQ(q.tryGet(), "a");
  ASSERT_EQ(q.tryGet(), "b");
  clock.advance(seconds(11));  // c fell due 4s ago: its wait counts from then, not from add
  ASSERT_EQ(q.tryGet(), "c");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (std::pair<Duration, std::size_t>{seconds(5), 1u}));
  EXPECT_EQ(seen[1], (std::pair<Duration, std::size_t>{seconds(3), 0u}));
  EXPECT_EQ(seen[2], (std::pair<Duration, std::size_t>{seconds(4), 0u}));
}

TEST(WorkQueueTest, NeverHandsOutAKeyWhileItIsProcessing) {
  VirtualClock clock;
  WorkQueue q(clock);
  q.add("a");
  ASSERT_EQ(q.tryGet(), "a");
  q.add("a");  // changed again while being reconciled
  EXPECT_EQ(q.tryGet(), std::nullopt);
  q.done("a");
  EXPECT_EQ(q.tryGet(), "a");  // delivered once more, after done
  q.done("a");
  EXPECT_EQ(q.tryGet(), std::nullopt);
}

TEST(WorkQueueTest, DelayedAddsFollowTheVirtualClock) {
  VirtualClock clock;
  WorkQueue q(clock);
  q.addAfter("interval", seconds(60));
  q.addAfter("soon", seconds(10));
  q.addAfter("interval", seconds(90));  // the earlier time is kept
  EXPECT_EQ(q.tryGet(), std::nullopt);
  EXPECT_EQ(q.nextReadyTime(), clock.now() + seconds(10));
  clock.advance(seconds(10));
  EXPECT_EQ(q.tryGet(), "soon");
  clock.advance(seconds(49));
  EXPECT_EQ(q.tryGet(), std::nullopt);
  clock.advance(seconds(1));
  EXPECT_EQ(q.tryGet(), "interval");
  EXPECT_EQ(q.nextReadyTime(), std::nullopt);
}

TEST(WorkQueueTest, PerKeyBackoffDoublesUntilForgotten) {
  VirtualClock clock;
  WorkQueue q(clock, {milliseconds(5), seconds(1000), 1e9, 1e9});
  std::vector<Duration> delays;
  for (int i = 0; i < 4; ++i) {
    TimePoint before = clock.now();
    q.addRateLimited("a");
    delays.push_back(*q.nextReadyTime() - before);
    clock.advance(*q.nextReadyTime() - clock.now());
    ASSERT_EQ(q.tryGet(), "a");
    q.done("a");
  }
  EXPECT_EQ(delays, (std::vector<Duration>{milliseconds(5), milliseconds(10), milliseconds(20),
                                           milliseconds(40)}));
  EXPECT_EQ(q.retries("a"), 4);
  q.forget("a");
  EXPECT_EQ(q.retries("a"), 0);
}

TEST(WorkQueueTest, BackoffIsCapped) {
  VirtualClock clock;
  WorkQueue q(clock, {milliseconds(5), seconds(1), 1e9, 1e9});
  for (int i = 0; i < 20; ++i)
    q.addRateLimited("a");
  EXPECT_LE(*q.nextReadyTime() - clock.now(), seconds(1));
}

TEST(WorkQueueTest, GlobalRateLimitSpacesBurstsOut) {
  VirtualClock clock;
  WorkQueue q(clock, {Duration::zero(), Duration::zero(), 10, 2});
  q.addRateLimited("a");  // burst tokens
  q.addRateLimited("b");
  q.addRateLimited("c");  // owes a token: 100ms at 10/s
  EXPECT_EQ(q.tryGet(), "a");
  EXPECT_EQ(q.tryGet(), "b");
  EXPECT_EQ(q.tryGet(), std::nullopt);
  EXPECT_EQ(*q.nextReadyTime() - clock.now(), milliseconds(100));
  clock.advance(milliseconds(100));
  EXPECT_EQ(q.tryGet(), "c");
}

TEST(WorkQueueTest, ShutDownStopsEverything) {
  SystemClock clock;
  WorkQueue q(clock);
  q.shutDown();
  q.add("a");
  EXPECT_EQ(q.tryGet(), std::nullopt);
  EXPECT_EQ(q.get(milliseconds(10)), std::nullopt);
  EXPECT_TRUE(q.shuttingDown());
}

TEST(WorkQueueTest, BlockingGetWakesForDelayedKeys) {
  SystemClock clock;
  WorkQueue q(clock);
  q.addAfter("a", milliseconds(20));
  EXPECT_EQ(q.get(milliseconds(2000)), "a");
}

// One namespace with many slow keys cannot take every worker: keys of an idle namespace go
// first, and no namespace holds more than its share.
TEST(WorkQueueTest, FairShareServesEveryNamespace) {
  VirtualClock clock;
  WorkQueue q(clock);
  q.setFairShare(2);  // e.g. three workers
  for (const char* key : {"evil/a", "evil/b", "evil/c", "evil/d", "good/x", "other/y"}) {
    q.add(key);
  }
  EXPECT_EQ(q.tryGet(), "evil/a");
  EXPECT_EQ(q.tryGet(), "good/x");      // evil has one in processing, good none
  EXPECT_EQ(q.tryGet(), "other/y");     // likewise
  EXPECT_EQ(q.tryGet(), "evil/b");      // evil's second, up to its share
  EXPECT_EQ(q.tryGet(), std::nullopt);  // evil/c waits: evil holds its share
  q.add("good/z");
  EXPECT_EQ(q.tryGet(), "good/z");
  q.done("evil/a");
  EXPECT_EQ(q.tryGet(), "evil/c");
  EXPECT_EQ(q.length(), 1u);  // evil/d
}

TEST(WorkQueueTest, WithoutAShareTheQueueIsFifo) {
  VirtualClock clock;
  WorkQueue q(clock);
  for (const char* key : {"evil/a", "evil/b", "good/x"})
    q.add(key);
  EXPECT_EQ(q.tryGet(), "evil/a");
  EXPECT_EQ(q.tryGet(), "evil/b");
  EXPECT_EQ(q.tryGet(), "good/x");
}

}  // namespace
}  // namespace canaryd::runtime
