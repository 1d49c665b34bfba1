package io.tailops.testkit.tailscale;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A fault being injected into a {@link FakeTailscaleApi}: choose where ({@link #on(Endpoint...)} or
 * {@link #everywhere()}, the default) and then for how long ({@link #times(int)} or {@link #always()}). Nothing is
 * injected until {@code times} or {@code always} is called. The returned object is a handle: {@link #clear()} removes
 * the fault, {@link #triggered()} tells how often it fired.
 *
 * <p>Faults are checked in the order they were registered; the first active one that matches the request's endpoint
 * fires. Faults fire before authentication, like a failing load balancer in front of the API, and every request they
 * answer is still counted by the fake's call counters. Requests to unknown paths are matched only by
 * {@code everywhere()} faults.
 */
public final class FaultInjection {
  private final FakeTailscaleApi fake;
  private final Fault fault;
  private Set<Endpoint> endpoints; // null: everywhere
  private int remaining; // -1: until cleared
  private int triggered;
  private boolean registered;
  private boolean cleared;

  FaultInjection(FakeTailscaleApi fake, Fault fault) {
    this.fake = fake;
    this.fault = Objects.requireNonNull(fault, "fault");
  }

  /** Restricts the fault to these endpoints. */
  public synchronized FaultInjection on(Endpoint first, Endpoint... more) {
    requireNotRegistered();
    endpoints = EnumSet.of(first, more);
    return this;
  }

  /** Applies the fault to every request, including the token endpoint and unknown paths (the default). */
  public synchronized FaultInjection everywhere() {
    requireNotRegistered();
    endpoints = null;
    return this;
  }

  /** Activates the fault for the next {@code n} matching requests. */
  public FaultInjection times(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("times must be at least 1: " + n);
    }
    synchronized (this) {
      requireNotRegistered();
      remaining = n;
      registered = true;
    }
    fake.register(this);
    return this;
  }

  /** Activates the fault for every matching request until {@link #clear()} or {@link FakeTailscaleApi#clearFaults()}. */
  public FaultInjection always() {
    synchronized (this) {
      requireNotRegistered();
      remaining = -1;
      registered = true;
    }
    fake.register(this);
    return this;
  }

  /** Deactivates this fault. */
  public synchronized void clear() {
    cleared = true;
  }

  /** How many requests this fault has answered so far. */
  public synchronized int triggered() {
    return triggered;
  }

  /** How many more requests it will answer; -1 when active until cleared, 0 when used up or cleared. */
  public synchronized int remaining() {
    return cleared ? 0 : remaining;
  }

  /** The fault itself. */
  public Fault fault() {
    return fault;
  }

  /** Claims one firing if this fault is active and matches; package-private, called by the fake. */
  synchronized boolean tryFire(Endpoint endpoint) {
    if (cleared || !registered || remaining == 0) {
      return false;
    }
    if (endpoints != null && (endpoint == null || !endpoints.contains(endpoint))) {
      return false;
    }
    if (remaining > 0) {
      remaining--;
    }
    triggered++;
    return true;
  }

  synchronized boolean isExhausted() {
    return cleared || (registered && remaining == 0);
  }

  private void requireNotRegistered() {
    if (registered) {
      throw new IllegalStateException("fault already active; inject a new one instead");
    }
  }

  @Override
  public synchronized String toString() {
    return "FaultInjection[" + fault + " on " + (endpoints == null ? "all endpoints" : endpoints)
        + (remaining < 0 ? ", until cleared" : ", remaining=" + remaining) + ", triggered=" + triggered + "]";
  }
}
