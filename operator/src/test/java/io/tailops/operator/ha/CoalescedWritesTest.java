package io.tailops.operator.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Group commit of the changes to one shared document: fewer writes, and each caller still sees its own outcome. */
class CoalescedWritesTest {
  private final CoalescedWrites<String> writes = new CoalescedWrites<>();
  private final List<List<String>> written = Collections.synchronizedList(new ArrayList<>());
  private final ExecutorService pool = Executors.newFixedThreadPool(8);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void aLoneChangeIsWrittenAloneAndAtOnce() {
    writes.submit("a", written::add);
    writes.submit("b", written::add);
    assertThat(written).containsExactly(List.of("a"), List.of("b"));
  }

  @Test
  void changesQueuedDuringAWriteGoOutTogetherInTheNextOne() throws Exception {
    CountDownLatch firstOnTheWire = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Consumer<List<String>> write = batch -> {
      written.add(List.copyOf(batch));
      if (batch.contains("first")) {
        firstOnTheWire.countDown();
        await(release);
      }
    };
    Future<?> first = pool.submit(() -> writes.submit("first", write));
    assertThat(firstOnTheWire.await(10, TimeUnit.SECONDS)).isTrue();
    List<Future<?>> others = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String change = "svc-" + i;
      others.add(pool.submit(() -> writes.submit(change, write)));
    }
    // The six are queued behind the write on the wire (none of them can be written before it returns).
    awaitQueued(6);
    release.countDown();
    first.get(10, TimeUnit.SECONDS);
    for (Future<?> f : others) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(written).hasSize(2);
    assertThat(written.get(0)).containsExactly("first");
    assertThat(written.get(1)).containsExactlyInAnyOrder("svc-0", "svc-1", "svc-2", "svc-3", "svc-4", "svc-5");
  }

  @Test
  void everyCallerWhoseChangeWasInAFailedWriteGetsItsFailureAndLaterOnesDoNot() throws Exception {
    CountDownLatch firstOnTheWire = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Consumer<List<String>> write = batch -> {
      written.add(List.copyOf(batch));
      if (batch.contains("first")) {
        firstOnTheWire.countDown();
        await(release);
        return;
      }
      if (batch.contains("poison")) {
        throw new IllegalStateException("409 three times");
      }
    };
    Future<?> first = pool.submit(() -> writes.submit("first", write));
    assertThat(firstOnTheWire.await(10, TimeUnit.SECONDS)).isTrue();
    Future<?> poison = pool.submit(() -> writes.submit("poison", write));
    Future<?> bystander = pool.submit(() -> writes.submit("bystander", write));
    awaitQueued(2);
    release.countDown();
    first.get(10, TimeUnit.SECONDS);
    for (Future<?> f : List.of(poison, bystander)) {
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasRootCauseMessage("409 three times");
    }
    writes.submit("after", write);
    assertThat(written).hasSize(3);
    assertThat(written.get(2)).containsExactly("after"); // a failed batch is not carried into the next write
  }

  /** Waits until {@code n} callers are blocked behind the write on the wire (itself a parked caller too). */
  private void awaitQueued(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (writesQueued() < n + 1) {
      assertThat(System.nanoTime()).as("callers queued").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  private int writesQueued() {
    // Threads parked on the writing lock are the callers whose change is queued.
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)
        .filter(t -> java.util.Arrays.stream(t.getStackTrace())
            .anyMatch(f -> f.getClassName().equals(CoalescedWrites.class.getName())))
        .mapToInt(t -> 1).sum();
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
