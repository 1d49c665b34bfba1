package io.tailops.operator.threads;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One component's timed work on a timer thread that other components may share (the operator's periodic sweeps, the
 * status ConfigMap, the device registry's batched writes, the credential check share one: {@code operator-timer}).
 * The tasks of all sharing components run one at a time, in the order they fall due. {@link #close()} cancels this
 * component's tasks (interrupting one that runs) and leaves the thread to the others, unless this component owns it.
 */
public final class TimerTasks implements AutoCloseable {
  private ScheduledExecutorService timer;
  private boolean owned;
  private final Set<Future<?>> tasks = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private TimerTasks(ScheduledExecutorService timer, boolean owned) {
    this.timer = timer;
    this.owned = owned;
  }

  /** Tasks on {@code shared}, which the caller shuts down. */
  public static TimerTasks on(ScheduledExecutorService shared) {
    return new TimerTasks(shared, false);
  }

  /** Tasks on a thread of their own named {@code name}, ended by {@link #close()} (tests, tools). */
  public static TimerTasks own(String name) {
    return new TimerTasks(OperatorThreads.scheduler(name), true);
  }

  /**
   * Runs the tasks scheduled from now on on {@code shared} (which the caller shuts down) instead of this component's
   * own thread; before the first task is scheduled.
   */
  public synchronized void moveTo(ScheduledExecutorService shared) {
    if (!tasks.isEmpty()) {
      throw new IllegalStateException("tasks are scheduled already");
    }
    if (owned) {
      timer.shutdownNow(); // never started a thread: nothing was scheduled
    }
    timer = shared;
    owned = false;
  }

  /** Runs {@code task} as soon as the thread is free. */
  public void execute(Runnable task) {
    schedule(task, 0, TimeUnit.MILLISECONDS);
  }

  /** @throws RejectedExecutionException when closed */
  public synchronized void schedule(Runnable task, long delay, TimeUnit unit) {
    track(timer.schedule(task, delay, unit));
  }

  /** @throws RejectedExecutionException when closed */
  public synchronized void scheduleWithFixedDelay(Runnable task, long initialDelay, long delay, TimeUnit unit) {
    track(timer.scheduleWithFixedDelay(task, initialDelay, delay, unit));
  }

  private synchronized void track(Future<?> f) {
    tasks.removeIf(Future::isDone);
    tasks.add(f);
    if (closed) {
      f.cancel(true);
      throw new RejectedExecutionException("closed");
    }
  }

  /**
   * Cancels this component's tasks; with {@code waitMillis} > 0 first lets those due within that time run (the device
   * registry's last batched write).
   */
  public void close(long waitMillis) {
    if (waitMillis > 0) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
      for (Future<?> f : java.util.List.copyOf(tasks)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          f.get(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (Exception e) {
          // done, failed, cancelled or still waiting: cancelled below
        }
      }
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      tasks.forEach(f -> f.cancel(true));
      tasks.clear();
      if (owned) {
        timer.shutdownNow();
      }
    }
  }

  @Override
  public void close() {
    close(0);
  }
}
