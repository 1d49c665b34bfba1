package io.tailops.operator.runtime;

import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.ParentlessCleanup;
import io.tailops.operator.threads.TimerTasks;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every parent-less sweep on the leader — each proxy kind's ({@link ProxyController#sweepParentless}) and those of
 * controllers that make objects for a parent outside the pipeline (a Service egressing through a ProxyGroup): once the
 * caches are filled at start-up, then every {@code OPERATOR_DEVICE_SWEEP_INTERVAL}, and again after a few seconds while
 * a removal waits for a StatefulSet to go.
 */
public final class ParentlessSweep implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ParentlessSweep.class);
  static final Duration AGAIN_SOON = Duration.ofSeconds(3);

  private final List<ParentlessCleanup> sweeps = new CopyOnWriteArrayList<>();
  private final OperatorHealth health;
  private final TimerTasks timer = TimerTasks.own("parentless-sweep");

  public ParentlessSweep(OperatorHealth health) {
    this.health = health;
  }

  public void add(ProxyController<?, ?, ?> controller) {
    add(new ParentlessCleanup() {
      @Override
      public String what() {
        return controller.kind().kindName();
      }

      @Override
      public boolean sweepParentless() {
        return controller.sweepParentless();
      }
    });
  }

  public void add(ParentlessCleanup sweep) {
    sweeps.add(sweep);
  }

  /** Runs this component's timed work on {@code shared} (the operator's timer thread), not on a thread of its own. */
  public ParentlessSweep on(ScheduledExecutorService shared) {
    timer.moveTo(shared);
    return this;
  }

  /** Starts sweeping: now (the operator has started, its caches are synced) and every {@code interval}. */
  public ParentlessSweep start(Duration interval) {
    long period = Math.max(1000, interval.toMillis());
    timer.scheduleWithFixedDelay(this::sweepIfLeader, 0, period, TimeUnit.MILLISECONDS);
    return this;
  }

  private void sweepIfLeader() {
    if (!health.isLeader()) {
      return;
    }
    boolean pending = false;
    for (ParentlessCleanup s : sweeps) {
      try {
        pending |= s.sweepParentless();
      } catch (RuntimeException e) {
        LOG.warn("parent-less sweep of {} failed: {}", s.what(), e.toString());
      }
    }
    if (pending) {
      try {
        timer.schedule(this::sweepIfLeader, AGAIN_SOON.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    }
  }

  @Override
  public void close() {
    timer.close();
  }
}
