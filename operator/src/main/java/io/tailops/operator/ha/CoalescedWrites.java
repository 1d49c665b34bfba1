package io.tailops.operator.ha;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Changes to one shared document (a ProxyGroup's ConfigMap, which every Service or Ingress of the group has an entry
 * in) written together: a caller's change waits while another caller's write is on the wire, and the next write
 * carries every change that queued meanwhile (group commit). A caller returns once a write that carried its change
 * succeeded, or throws what that write threw; so each caller sees its own outcome as if it had written alone, and N
 * reconciles of one group at once cost about N / (reconciler threads) writes of the document instead of N — each of
 * which the API server stores and every watcher of the document receives whole.
 *
 * @param <C> one caller's change
 */
final class CoalescedWrites<C> {
  /** How many failed writes are remembered for the callers who queued into them and have not looked yet. */
  static final int FAILURES_KEPT = 256;

  private final ReentrantLock writing = new ReentrantLock();
  private final Object lock = new Object();
  private List<C> pending = new ArrayList<>();
  private long queued;
  private long done;
  /** A failed write's last ticket → (its first ticket, what it threw). */
  private final TreeMap<Long, Map.Entry<Long, RuntimeException>> failures = new TreeMap<>();

  /**
   * Queues {@code change} and returns once it is written: by this caller, with every change queued before the write
   * started, or by another caller's write that carried it.
   *
   * @param write writes a batch of changes, oldest first, in one request; throws if it did not
   */
  void submit(C change, Consumer<List<C>> write) {
    long ticket;
    synchronized (lock) {
      pending.add(change);
      ticket = ++queued;
    }
    writing.lock();
    try {
      List<C> batch;
      long first;
      long last;
      synchronized (lock) {
        if (done >= ticket) {
          rethrowIfFailed(ticket);
          return;
        }
        batch = pending;
        pending = new ArrayList<>();
        first = done + 1;
        last = queued;
      }
      try {
        write.accept(batch);
      } catch (RuntimeException e) {
        synchronized (lock) {
          failures.put(last, Map.entry(first, e));
          while (failures.size() > FAILURES_KEPT) {
            failures.pollFirstEntry();
          }
          done = last;
        }
        throw e;
      }
      synchronized (lock) {
        done = last;
      }
    } finally {
      writing.unlock();
    }
  }

  private void rethrowIfFailed(long ticket) {
    Map.Entry<Long, Map.Entry<Long, RuntimeException>> f = failures.ceilingEntry(ticket);
    if (f != null && f.getValue().getKey() <= ticket) {
      throw f.getValue().getValue();
    }
  }
}
