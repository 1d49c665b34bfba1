package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.DeviceRegistry;
import io.tailops.operator.proxy.KubernetesProxyWrites;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.proxy.ProxyWrites;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.reconcile.TailnetDevices;
import io.tailops.operator.threads.TimerTasks;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic, bounded sweep for orphaned devices: devices that carry only this operator's proxy tags, belong to no
 * proxy Secret, and have been offline for longer than the grace period (left behind by unclean teardowns or lost
 * state). They are reported (log, metrics, the operator status ConfigMap) and deleted only when the operator is
 * configured to ({@code OPERATOR_ORPHAN_DEVICES=delete}) and the device is provably this operator's: registered in
 * the {@link DeviceRegistry}, which this sweep keeps (every device a proxy Secret reports is added, devices gone from
 * the tailnet are removed). A device with the same tags that this operator never registered (another cluster's, the
 * official operator's) is reported as foreign and never deleted; devices without those tags are never touched.
 */
public final class DeviceSweeper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceSweeper.class);

  /**
   * An orphaned device found by a sweep.
   *
   * @param registered whether this operator registered it ({@link DeviceRegistry}); only such devices are deleted
   */
  public record Orphan(String nodeId, String name, List<String> tags, Instant lastSeen, boolean deleted,
      boolean registered) {
    /** For the status ConfigMap and page: what happened to it. */
    public String outcome() {
      return deleted ? "deleted" : !registered ? "not registered by this operator: reported, never deleted"
          : "reported; OPERATOR_ORPHAN_DEVICES=delete removes such devices";
    }
  }

  private final OperatorConfig config;
  private final ProxyWrites writes;
  private final ProxySecrets proxySecrets;
  private final ControlPlane controlPlane;
  private final OperatorHealth health;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final Runnable onResult;
  private final DeviceRegistry devices;
  private final TimerTasks timer = TimerTasks.own("device-sweeper");
  private volatile List<Orphan> lastOrphans = List.of();
  private volatile UnusedKeySweep keySweep;
  private TailnetDevices published;

  public DeviceSweeper(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane, OperatorHealth health,
      OperatorMetrics metrics, Clock clock, DeviceRegistry devices, Runnable onResult) {
    this.devices = devices;
    this.config = config;
    this.writes = new KubernetesProxyWrites(client, config.namespace(), null);
    this.proxySecrets = new ProxySecrets(writes);
    this.controlPlane = controlPlane;
    this.health = health;
    this.metrics = metrics;
    this.clock = clock;
    this.onResult = onResult;
  }

  /** Runs this component's timed work on {@code shared} (the operator's timer thread), not on a thread of its own. */
  public DeviceSweeper on(ScheduledExecutorService shared) {
    timer.moveTo(shared);
    return this;
  }

  /** Publishes every list the sweep takes to {@code devices} (egress target checks read it). */
  public DeviceSweeper publishTo(TailnetDevices devices) {
    this.published = devices;
    return this;
  }

  /** Runs {@code sweep} (the unused-key sweep) with every device sweep and when {@link #sweepKeysSoon()} asks. */
  public DeviceSweeper keys(UnusedKeySweep sweep) {
    this.keySweep = sweep;
    return this;
  }

  /** A key sweep now, in the sweeper's thread (called when this process becomes the leader). */
  public void sweepKeysSoon() {
    if (keySweep != null) {
      try {
        timer.execute(this::sweepKeysIfLeader);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closed
      }
    }
  }

  private void sweepKeysIfLeader() {
    if (keySweep == null || !health.isLeader()) {
      return;
    }
    try {
      keySweep.sweep();
    } catch (RuntimeException e) {
      LOG.warn("key sweep failed: {}", e.toString());
    }
  }

  public UnusedKeySweep keySweep() {
    return keySweep;
  }

  public DeviceSweeper start() {
    long period = Math.max(1000, config.deviceSweepInterval().toMillis());
    timer.scheduleWithFixedDelay(this::sweepIfLeader, Math.min(period, 30_000), period, TimeUnit.MILLISECONDS);
    return this;
  }

  private void sweepIfLeader() {
    if (!health.isLeader()) {
      return;
    }
    try {
      sweep();
    } catch (RuntimeException e) {
      LOG.warn("device sweep failed: {}", e.toString());
    }
    sweepKeysIfLeader();
  }

  /** One sweep; returns the orphans found (deleted ones marked). */
  public List<Orphan> sweep() {
    List<Device> devices;
    try {
      devices = controlPlane.listDevices();
    } catch (ControlPlaneException e) {
      LOG.info("device sweep skipped: {}", e.userMessage());
      return lastOrphans;
    }
    if (published != null) {
      published.update(devices, clock.instant());
    }
    List<Secret> secrets = writes.managedSecrets();
    Set<String> known = new HashSet<>(ReplicaState.knownDeviceIds(secrets));
    // Devices in the registry are provably the proxies' own (a registered device whose proxy and parent are gone is
    // also removed by the parent-less sweep); only they are ever deleted as orphans. Entries of devices no longer in
    // the tailnet go.
    this.devices.load();
    Set<String> registered = forgetVanished(devices);
    if (config.selfHealing()) {
      noticeMissingDevices(devices, secrets);
    }
    Set<String> proxyTags = Set.copyOf(config.proxyTags());
    Instant now = clock.instant();
    List<Orphan> orphans = new ArrayList<>();
    for (Device d : devices) {
      if (d.tags().isEmpty() || !proxyTags.containsAll(d.tags()) || known.contains(d.nodeId())) {
        continue;
      }
      if (config.operatorHostname().equalsIgnoreCase(d.hostname())) {
        continue;
      }
      if (Boolean.TRUE.equals(d.online())) {
        continue;
      }
      if (d.lastSeen() == null || Duration.between(d.lastSeen(), now).compareTo(config.orphanGracePeriod()) < 0) {
        continue;
      }
      boolean deleted = false;
      boolean ours = registered.contains(d.nodeId());
      if (!ours) {
        LOG.info("device {} ({}, tags {}, last seen {}) carries only the proxy tags but was not registered by this "
            + "operator (another cluster's or operator's?): reported, never deleted", d.nodeId(), d.name(), d.tags(),
            d.lastSeen());
      } else if (config.orphanDevicePolicy() == OperatorConfig.OrphanPolicy.DELETE) {
        try {
          controlPlane.deleteDevice(d.nodeId());
          deleted = true;
          this.devices.forget(d.nodeId());
          metrics.selfHealing("OrphanDeviceDeleted");
          LOG.info("deleted orphaned device {} ({}, tags {}, last seen {})", d.nodeId(), d.name(), d.tags(),
              d.lastSeen());
        } catch (ControlPlaneException e) {
          LOG.warn("could not delete orphaned device {}: {}", d.nodeId(), e.userMessage());
        }
      } else {
        LOG.info("orphaned device {} ({}, tags {}, last seen {}): no proxy uses it; set OPERATOR_ORPHAN_DEVICES=delete "
            + "to remove such devices automatically", d.nodeId(), d.name(), d.tags(), d.lastSeen());
      }
      orphans.add(new Orphan(d.nodeId(), d.name(), d.tags(), d.lastSeen(), deleted, ours));
    }
    metrics.gauge("orphaned_devices", "policy", config.orphanDevicePolicy().name().toLowerCase(),
        (int) orphans.stream().filter(o -> !o.deleted()).count());
    lastOrphans = List.copyOf(orphans);
    onResult.run();
    return lastOrphans;
  }

  /**
   * Forgets the registry's entries of devices that are no longer in the tailnet (each confirmed, so that a device
   * registered after the list was read stays); returns the IDs of the registered devices that are.
   */
  Set<String> forgetVanished(List<Device> inTailnet) {
    Set<String> present = new HashSet<>();
    inTailnet.forEach(d -> present.add(d.nodeId()));
    Set<String> registered = new HashSet<>();
    for (DeviceRegistry.Entry e : this.devices.all()) {
      if (present.contains(e.deviceId())) {
        registered.add(e.deviceId());
        continue;
      }
      try {
        if (controlPlane.getDevice(e.deviceId()).isEmpty()) {
          LOG.info("device {} of proxy {} is no longer in the tailnet; forgotten", e.deviceId(), e.replica());
          this.devices.forget(e.deviceId());
        } else {
          registered.add(e.deviceId());
        }
      } catch (ControlPlaneException ex) {
        registered.add(e.deviceId());
      }
    }
    return registered;
  }

  /**
   * Marks the state Secret of every proxy whose reported device no longer exists in the control plane (confirmed one
   * by one, so a partial list deletes nothing) with {@link TailscaleKeys#DEVICE_MISSING}; the Secret change wakes the
   * proxy's parent, whose reconcile re-registers the proxy. Returns how many were marked.
   */
  int noticeMissingDevices(List<Device> devices, List<Secret> secrets) {
    Set<String> present = new HashSet<>();
    devices.forEach(d -> present.add(d.nodeId()));
    int marked = 0;
    for (Secret s : secrets) {
      Map<String, String> labels = s.getMetadata().getLabels();
      if (labels == null || !labels.containsKey(TailscaleKeys.LABEL_PARENT_TYPE)) {
        continue; // not a proxy's Secret
      }
      ReplicaState r = ReplicaState.of(s);
      String id = r.device().deviceId();
      if (id.isEmpty() || present.contains(id) || id.equals(r.deviceMissing())) {
        continue;
      }
      try {
        if (controlPlane.getDevice(id).isPresent()) {
          continue;
        }
      } catch (ControlPlaneException e) {
        LOG.info("could not confirm that device {} of proxy Secret {} is gone: {}", id, s.getMetadata().getName(),
            e.userMessage());
        continue;
      }
      try {
        if (proxySecrets.markDeviceMissing(s, id)) {
          marked++;
          metrics.selfHealing("DeviceMissing");
          LOG.info("proxy Secret {} reports device {}, which no longer exists in the tailnet; its proxy will be "
              + "re-registered", s.getMetadata().getName(), id);
        }
      } catch (KubernetesClientException e) {
        LOG.info("could not mark proxy Secret {}: {}", s.getMetadata().getName(), e.getMessage());
      }
    }
    return marked;
  }

  public List<Orphan> lastOrphans() {
    return lastOrphans;
  }

  @Override
  public void close() {
    timer.close();
  }
}
