package io.tailops.operator.runtime;

import io.tailops.operator.doctor.Doctor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * The running operator's {@code doctor} results, shared by {@code /doctor}, {@code /doctor.json} and the status page.
 * A run costs several control-plane calls (token, device list, policy) and cluster-wide LISTs, so it runs at most
 * once per {@code minInterval} however many callers ask: a caller within that interval gets the last results (with
 * their age), and callers that arrive while a run is under way wait for it instead of starting their own.
 */
public final class DoctorResults {
  /** How often doctor may run at most, unless configured otherwise. */
  public static final Duration DEFAULT_MIN_INTERVAL = Duration.ofSeconds(30);

  /** Results of one run and when it finished. */
  public record Result(List<Doctor.Check> checks, Instant at) {
    /** Whole seconds since the run, at {@code now}. */
    public long ageSeconds(Instant now) {
      return Math.max(0, Duration.between(at, now).toSeconds());
    }
  }

  private final Supplier<List<Doctor.Check>> run;
  private final Clock clock;
  private final Duration minInterval;
  private Result last;
  private int runs;

  public DoctorResults(Supplier<List<Doctor.Check>> run, Clock clock, Duration minInterval) {
    this.run = run;
    this.clock = clock;
    this.minInterval = minInterval;
  }

  /** The results, from a new run only when the last one is older than the minimum interval. */
  public synchronized Result get() {
    if (last != null && Duration.between(last.at(), clock.instant()).compareTo(minInterval) < 0) {
      return last;
    }
    List<Doctor.Check> checks;
    try {
      checks = List.copyOf(run.get());
    } catch (RuntimeException e) {
      checks = List.of(new Doctor.Check("doctor", Doctor.Status.WARN, "could not run: " + e.getMessage(),
          "see the operator's log"));
    }
    runs++;
    last = new Result(checks, clock.instant());
    return last;
  }

  /** How many times doctor actually ran. */
  public synchronized int runs() {
    return runs;
  }

  public Duration minInterval() {
    return minInterval;
  }
}
