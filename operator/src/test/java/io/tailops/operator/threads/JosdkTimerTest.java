package io.tailops.operator.threads;

import static org.assertj.core.api.Assertions.assertThat;

import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.EventHandler;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.timer.TimerEventSource;
import java.util.Map;
import java.util.TimerTask;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** JOSDK's per-controller retry/reschedule timers moved onto one thread without losing or shifting a task. */
class JosdkTimerTest {
  @Test
  void scheduledTasksMoveWithTheirDueTimesAndTheControllersOwnTimerEnds() throws Exception {
    Map<ResourceID, String> firedOn = new ConcurrentHashMap<>();
    CountDownLatch fired = new CountDownLatch(2);
    TimerEventSource<io.fabric8.kubernetes.api.model.Service> source = new TimerEventSource<>("retry", false);
    source.setEventHandler(new EventHandler() {
      @Override
      public void handleEvent(Event event) {
        firedOn.put(event.getRelatedCustomResourceID(), Thread.currentThread().getName());
        fired.countDown();
      }
    });
    source.start();
    ResourceID soon = new ResourceID("soon", "ns");
    ResourceID later = new ResourceID("later", "ns");
    ResourceID afterMove = new ResourceID("after-move", "ns");
    ResourceID tenHours = new ResourceID("ten-hours", "ns");
    long before = System.currentTimeMillis();
    source.scheduleOnce(soon, 300);
    source.scheduleOnce(tenHours, TimeUnit.HOURS.toMillis(10));
    Thread ownThread = timerThreads().get(0);

    OperatorThreads.SharedTimer shared = new OperatorThreads.SharedTimer("josdk-timer");
    Object lock = new Object();
    assertThat(OperatorThreads.moveTimer(source, lock, shared)).isTrue();
    assertThat(OperatorThreads.moveTimer(source, lock, shared)).isFalse();
    source.scheduleOnce(afterMove, 50);
    assertThat(fired.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(firedOn).containsOnlyKeys(soon, afterMove).allSatisfy((k, v) -> assertThat(v).isEqualTo("josdk-timer"));
    ownThread.join(5000);
    assertThat(ownThread.isAlive()).as("the controller's own timer thread ended").isFalse();

    // The ten-hour task waits on the shared timer, due when it was due.
    java.lang.reflect.Field tasks = TimerEventSource.class.getDeclaredField("onceTasks");
    tasks.setAccessible(true);
    @SuppressWarnings("unchecked")
    TimerTask moved = ((Map<ResourceID, TimerTask>) tasks.get(source)).get(tenHours);
    assertThat(moved.scheduledExecutionTime() - before).isBetween(TimeUnit.HOURS.toMillis(10) - 1000,
        TimeUnit.HOURS.toMillis(10) + 5000);

    source.stop(); // cancels its tasks and "its" timer: the shared one keeps running for the others
    CountDownLatch stillRuns = new CountDownLatch(1);
    shared.schedule(new TimerTask() {
      @Override
      public void run() {
        stillRuns.countDown();
      }
    }, 10);
    assertThat(stillRuns.await(5, TimeUnit.SECONDS)).isTrue();
    shared.end();
  }

  /** java.util.Timer threads are named Timer-N; the one this test's source started is the newest. */
  private static java.util.List<Thread> timerThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("Timer-"))
        .sorted(java.util.Comparator.comparingLong(Thread::getId).reversed()).toList();
  }
}
