package io.tailops.operator.proxy;

import io.tailops.operator.threads.TimerTasks;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every tailnet device a proxy of this operator registered, kept where a user's deletion of one proxy object does not
 * erase it: the ConfigMap {@value #CONFIG_MAP} in the operator namespace (proxies cannot write ConfigMaps; their Role
 * covers Secrets only). One entry per device: the proxy replica (its config Secret's name), the parent and the hostname
 * it asked for. The proxy Secret's {@code tailscale.com/device-id} annotation says the same for as long as the Secret
 * exists; the registry outlives it.
 *
 * <p>What it is for: a device in the registry is <b>provably this operator's</b>. When a proxy Secret is deleted by hand
 * (the seed guide's fix for a logged-out proxy) the replica's previous device is deleted before the new one registers,
 * so the name is reclaimed instead of becoming {@code name-1}; a parent's cleanup deletes every device its proxy ever
 * registered, also those whose Secret is gone; the device sweep and the parent-less sweep use it to tell the operator's
 * devices from others. This is the one registry of devices the operator owns: ownership checks read it
 * ({@link #owns}), they do not keep another.
 *
 * <p>Writes are JSON merge patches of the ConfigMap's data (one key per device ID), so concurrent writers (a new leader
 * while the old one still flushes) never lose each other's entries; they are batched, at most one write per second,
 * and none when nothing changed. Format of a value: {@code <replica Secret> <parent type>/<namespace>/<name>
 * <hostname>} (the parent name as its {@code tailscale.com/parent-resource} label has it).
 */
public final class DeviceRegistry implements AutoCloseable {
  public static final String CONFIG_MAP = "tailscale-operator-devices";
  private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);
  /** ConfigMap data keys: what a device ID must look like to be recorded (Tailscale and headscale IDs do). */
  private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");

  /** One device: the replica Secret it belongs to, its parent (type, namespace, label name) and its hostname. */
  public record Entry(String deviceId, String replica, String parentType, String namespace, String name,
      String hostname) {

    String value() {
      return replica + " " + parentType + "/" + (namespace == null ? "" : namespace) + "/" + name + " "
          + (hostname == null || hostname.isEmpty() ? "-" : hostname);
    }

    static Optional<Entry> parse(String deviceId, String value) {
      String[] f = value == null ? new String[0] : value.trim().split(" ");
      if (f.length != 3) {
        return Optional.empty();
      }
      String[] p = f[1].split("/", 3);
      if (p.length != 3) {
        return Optional.empty();
      }
      return Optional.of(new Entry(deviceId, f[0], p[0], p[1], p[2], "-".equals(f[2]) ? "" : f[2]));
    }

    /** Whether the entry belongs to a proxy of {@code parent}. */
    public boolean of(ParentRef parent) {
      return parentType.equals(parent.type()) && Objects.equals(namespace, parent.namespace() == null ? ""
          : parent.namespace()) && name.equals(DerivedNames.labelValue(parent.name()));
    }

    public ParentRef parent() {
      return new ParentRef(parentType, namespace, name, null);
    }
  }

  /** Where the entries are kept. */
  public interface Store {
    /** The stored entries (device ID → value); empty when there are none yet. */
    Map<String, String> read();

    /** Sets and removes entries in one write; returns the stored entries after it. */
    Map<String, String> patch(Map<String, String> set, Set<String> remove);
  }

  private final Store store;
  private final TimerTasks timer;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, String> pendingSet = new LinkedHashMap<>();
  private final Set<String> pendingRemove = new HashSet<>();
  private boolean flushScheduled;

  /**
   * @param timer where batched writes run (null: every change is written at once, for tests)
   */
  public DeviceRegistry(Store store, TimerTasks timer) {
    this.store = store;
    this.timer = timer;
  }

  /** A registry kept in memory only (tests, tools that do not act on devices). */
  public static DeviceRegistry inMemory() {
    Map<String, String> data = new ConcurrentHashMap<>();
    return new DeviceRegistry(new Store() {
      @Override
      public Map<String, String> read() {
        return Map.copyOf(data);
      }

      @Override
      public Map<String, String> patch(Map<String, String> set, Set<String> remove) {
        data.putAll(set);
        remove.forEach(data::remove);
        return Map.copyOf(data);
      }
    }, null);
  }

  /** A registry whose batched writes run on {@code timer} (the operator's timer thread; the caller shuts it down). */
  public static DeviceRegistry batched(Store store, ScheduledExecutorService timer) {
    return new DeviceRegistry(store, TimerTasks.on(timer));
  }

  /** Reads the stored entries (at start, and by the sweeps so that a new leader sees what the old one wrote). */
  public void load() {
    Map<String, String> data;
    try {
      data = store.read();
    } catch (RuntimeException e) {
      LOG.warn("could not read the device registry {}: {}", CONFIG_MAP, e.getMessage());
      return;
    }
    replaceFrom(data);
  }

  /** Records that {@code deviceId} is the device of replica {@code replica} of {@code parent}'s proxy. */
  public void record(String deviceId, String replica, ParentRef parent, String hostname) {
    if (deviceId == null || deviceId.isEmpty()) {
      return;
    }
    if (!KEY.matcher(deviceId).matches()) {
      LOG.warn("device ID {} cannot be a ConfigMap key; not recorded in {}", deviceId, CONFIG_MAP);
      return;
    }
    Entry e = new Entry(deviceId, replica, parent.type(), parent.namespace() == null ? "" : parent.namespace(),
        DerivedNames.labelValue(parent.name()), hostname == null ? "" : hostname);
    synchronized (this) {
      if (e.equals(entries.get(deviceId))) {
        return;
      }
      entries.put(deviceId, e);
      pendingRemove.remove(deviceId);
      pendingSet.put(deviceId, e.value());
    }
    changed();
  }

  /** Forgets a device (deleted, or gone from the tailnet). */
  public void forget(String deviceId) {
    if (deviceId == null) {
      return;
    }
    synchronized (this) {
      if (entries.remove(deviceId) == null) {
        return;
      }
      pendingSet.remove(deviceId);
      pendingRemove.add(deviceId);
    }
    changed();
  }

  /** Whether {@code deviceId} was registered by a proxy of this operator (and not deleted since). */
  public boolean owns(String deviceId) {
    return entries.containsKey(deviceId);
  }

  public Optional<Entry> entry(String deviceId) {
    return Optional.ofNullable(entries.get(deviceId));
  }

  /** The devices of one proxy replica (by its config Secret's name). */
  public List<Entry> ofReplica(String replica) {
    return entries.values().stream().filter(e -> e.replica().equals(replica)).toList();
  }

  /** The devices every replica of {@code parent}'s proxy registered. */
  public List<Entry> ofParent(ParentRef parent) {
    return entries.values().stream().filter(e -> e.of(parent)).toList();
  }

  public List<Entry> all() {
    return new ArrayList<>(entries.values());
  }

  /** Writes what changed now (normally done within a second of the change). */
  public void flush() {
    Map<String, String> set;
    Set<String> remove;
    synchronized (this) {
      flushScheduled = false;
      if (pendingSet.isEmpty() && pendingRemove.isEmpty()) {
        return;
      }
      set = new LinkedHashMap<>(pendingSet);
      remove = new HashSet<>(pendingRemove);
      pendingSet.clear();
      pendingRemove.clear();
    }
    try {
      Map<String, String> stored = store.patch(set, remove);
      replaceFrom(stored);
    } catch (RuntimeException e) {
      LOG.warn("could not write the device registry {} (retrying): {}", CONFIG_MAP, e.getMessage());
      synchronized (this) {
        set.forEach(pendingSet::putIfAbsent);
        remove.stream().filter(id -> !pendingSet.containsKey(id)).forEach(pendingRemove::add);
      }
      if (timer != null) {
        changed(); // again in a second; without a timer, with the next change
      }
    }
  }

  /** The stored entries, with the changes not written yet on top. */
  private void replaceFrom(Map<String, String> data) {
    Map<String, Entry> fresh = new LinkedHashMap<>();
    data.forEach((id, value) -> Entry.parse(id, value).ifPresent(e -> fresh.put(id, e)));
    synchronized (this) {
      pendingSet.forEach((id, value) -> Entry.parse(id, value).ifPresent(e -> fresh.put(id, e)));
      pendingRemove.forEach(fresh::remove);
      entries.keySet().retainAll(fresh.keySet());
      entries.putAll(fresh);
    }
  }

  private void changed() {
    if (timer == null) {
      flush();
      return;
    }
    synchronized (this) {
      if (flushScheduled) {
        return;
      }
      flushScheduled = true;
    }
    try {
      timer.schedule(this::flush, 1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      synchronized (this) {
        flushScheduled = false;
      }
    }
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.close(2000); // the batched write due within a second runs first
    }
    flush();
  }
}
