package io.tailops.operator.threads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Components sharing one timer thread: each one's close() cancels its own tasks only. */
class TimerTasksTest {
  private final ScheduledThreadPoolExecutor shared = OperatorThreads.scheduler("test-timer");

  @AfterEach
  void stop() {
    shared.shutdownNow();
  }

  @Test
  void closingOneComponentLeavesTheOthersRunningOnTheSharedThread() throws Exception {
    TimerTasks a = TimerTasks.on(shared);
    TimerTasks b = TimerTasks.on(shared);
    AtomicInteger aRuns = new AtomicInteger();
    CountDownLatch bRanTwiceAfterAClosed = new CountDownLatch(2);
    CountDownLatch aRan = new CountDownLatch(1);
    java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    a.scheduleWithFixedDelay(() -> {
      aRuns.incrementAndGet();
      threads.add(Thread.currentThread().getName());
      aRan.countDown();
    }, 0, 10, TimeUnit.MILLISECONDS);
    assertThat(aRan.await(5, TimeUnit.SECONDS)).isTrue();
    a.close();
    int aRunsAtClose = aRuns.get();
    b.scheduleWithFixedDelay(() -> {
      threads.add(Thread.currentThread().getName());
      bRanTwiceAfterAClosed.countDown();
    }, 0, 10, TimeUnit.MILLISECONDS);
    assertThat(bRanTwiceAfterAClosed.await(5, TimeUnit.SECONDS)).isTrue();
    // b's two runs came after a's close: a ran at most once more (a run already under way when it was closed)
    assertThat(aRuns.get()).isLessThanOrEqualTo(aRunsAtClose + 1);
    assertThat(threads).containsExactly("test-timer");
    assertThat(shared.isShutdown()).isFalse();
    assertThatThrownBy(() -> a.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
    b.close();
  }

  @Test
  void closeWithAWaitLetsTheTaskDueWithinItRun() throws Exception {
    TimerTasks tasks = TimerTasks.on(shared);
    AtomicInteger ran = new AtomicInteger();
    tasks.schedule(ran::incrementAndGet, 200, TimeUnit.MILLISECONDS);
    tasks.close(5000);
    assertThat(ran.get()).isEqualTo(1);

    TimerTasks cancelled = TimerTasks.on(shared);
    cancelled.schedule(ran::incrementAndGet, 200, TimeUnit.MILLISECONDS);
    cancelled.close();
    // One thread runs the tasks in the order they fall due: once a later task has run, the cancelled one would have.
    CountDownLatch later = new CountDownLatch(1);
    TimerTasks marker = TimerTasks.on(shared);
    marker.schedule(later::countDown, 300, TimeUnit.MILLISECONDS);
    assertThat(later.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(ran.get()).isEqualTo(1);
    marker.close();
  }

  @Test
  void anOwnThreadEndsWithCloseAndMovingToASharedOneIsOnlyBeforeTheFirstTask() throws Exception {
    TimerTasks own = TimerTasks.own("own-timer");
    CountDownLatch ran = new CountDownLatch(1);
    String[] name = new String[1];
    own.execute(() -> {
      name[0] = Thread.currentThread().getName();
      ran.countDown();
    });
    assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(name[0]).isEqualTo("own-timer");
    assertThatThrownBy(() -> own.moveTo(shared)).isInstanceOf(IllegalStateException.class);
    own.close();

    TimerTasks moved = TimerTasks.own("never-started");
    moved.moveTo(shared);
    CountDownLatch movedRan = new CountDownLatch(1);
    moved.execute(() -> {
      name[0] = Thread.currentThread().getName();
      movedRan.countDown();
    });
    assertThat(movedRan.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(name[0]).isEqualTo("test-timer");
    moved.close();
    assertThat(shared.isShutdown()).isFalse();
  }
}
