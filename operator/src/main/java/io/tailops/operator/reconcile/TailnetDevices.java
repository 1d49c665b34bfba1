package io.tailops.operator.reconcile;

import io.tailops.controlplane.Device;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The tailnet's devices as the device sweep last listed them (one list per sweep interval, no call of its own), for
 * reconcilers that judge something by the tailnet's devices (whether an egress target exists and is online).
 */
public final class TailnetDevices {
  /** A device list and when it was taken. */
  public record Snapshot(List<Device> devices, Instant listedAt) {
    public Snapshot {
      devices = List.copyOf(devices);
    }
  }

  private final Duration interval;
  private volatile Snapshot last;

  /** @param interval how often the list is refreshed ({@code OPERATOR_DEVICE_SWEEP_INTERVAL}) */
  public TailnetDevices(Duration interval) {
    this.interval = interval;
  }

  public void update(List<Device> devices, Instant at) {
    last = new Snapshot(devices, at);
  }

  /** The last list, if one was taken. */
  public Optional<Snapshot> last() {
    return Optional.ofNullable(last);
  }

  /** How often the list is refreshed: how long a judgement from it holds. */
  public Duration interval() {
    return interval;
  }
}
