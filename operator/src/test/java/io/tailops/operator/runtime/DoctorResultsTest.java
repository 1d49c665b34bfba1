package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.doctor.Doctor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** doctor on the running operator runs at most once per interval, however many callers ask. */
class DoctorResultsTest {
  /** A clock the test moves. */
  static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-03-01T10:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  final TestClock clock = new TestClock();
  final AtomicInteger runs = new AtomicInteger();

  List<Doctor.Check> run() {
    return List.of(new Doctor.Check("token", Doctor.Status.OK, "run " + runs.incrementAndGet(), ""));
  }

  @Test
  void callersWithinTheIntervalGetTheLastResultsWithTheirAge() {
    DoctorResults results = new DoctorResults(this::run, clock, Duration.ofSeconds(30));
    DoctorResults.Result first = results.get();
    clock.now = clock.now.plusSeconds(29);
    for (int i = 0; i < 50; i++) {
      assertThat(results.get()).isSameAs(first);
    }
    assertThat(results.runs()).isEqualTo(1);
    assertThat(first.ageSeconds(clock.instant())).isEqualTo(29);
    clock.now = clock.now.plusSeconds(1);
    assertThat(results.get().checks().get(0).detail()).isEqualTo("run 2");
    assertThat(results.runs()).isEqualTo(2);
  }

  @Test
  void concurrentCallersShareOneRun() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    DoctorResults results = new DoctorResults(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return run();
    }, clock, Duration.ofSeconds(30));
    List<Thread> callers = new ArrayList<>();
    List<DoctorResults.Result> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 8; i++) {
      Thread t = new Thread(() -> seen.add(results.get()));
      callers.add(t);
      t.start();
    }
    started.await();
    release.countDown();
    for (Thread t : callers) {
      t.join();
    }
    assertThat(runs.get()).isEqualTo(1);
    assertThat(seen).hasSize(8).allSatisfy(r -> assertThat(r).isSameAs(seen.get(0)));
  }

  @Test
  void aFailedRunIsAWarningNotAnException() {
    DoctorResults results = new DoctorResults(() -> {
      throw new IllegalStateException("boom");
    }, clock, Duration.ofSeconds(30));
    assertThat(results.get().checks()).singleElement().satisfies(c -> {
      assertThat(c.status()).isEqualTo(Doctor.Status.WARN);
      assertThat(c.detail()).contains("boom");
    });
  }
}
