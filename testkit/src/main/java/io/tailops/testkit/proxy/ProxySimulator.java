package io.tailops.testkit.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.RegistrationException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays containerboot's part for proxies that cannot run here (no kubelet): for every proxy the operator creates in
 * the operator namespace, a simulated pod "starts" (a real Pod when the controller manager's StatefulSet controller
 * made one, else a synthetic one per StatefulSet template), resets and writes the state keys containerboot writes
 * ({@code tailscale_capver}, {@code pod_uid}, then {@code device_id}, {@code device_fqdn}, {@code device_ips}, and
 * {@code https_endpoint} for serve-config proxies) and logs in to the {@link FakeTailscaleApi} with the auth key from
 * the config Secret — consuming it, so a second use fails as it would for real.
 *
 * <p>It follows what tailscaled would do: a hostname change renames the device; a device deleted in the control
 * plane logs the proxy out (state keys cleared, "crash-looping" until the config carries a fresh auth key and the
 * tailscaled state is reset); a proxy whose StatefulSet is gone goes offline.
 *
 * <p>Scheduling (so that it keeps up with a thousand proxies, see docs/benchmarks/README.md): each proxy is handled
 * by one of {@link #DEFAULT_THREADS} worker threads chosen by its name, so one proxy's steps still happen one at a
 * time and in order while different proxies proceed in parallel. A proxy already queued is not queued twice (events
 * that arrive while it waits are covered by the one pass), and the simulator's own Secret patches do not queue it
 * again. Every 2 s a sweep re-queues the proxies that need it — not running (crash-looping logins are retried),
 * or whose device is gone, offline or renamed in the control plane — judged from the informers' caches and the fake
 * control plane's in-memory state, so an idle proxy costs no API-server request. Each pass itself reads the
 * StatefulSet, Secret and Pod live, as before.
 */
public final class ProxySimulator implements AutoCloseable {
  /** Where the simulated tailscaled keeps its identity in the state Secret (real tailscaled keeps {@code _machinekey}
   * and profiles there). Deleting it, as the operator's re-authentication does, forces a fresh login. */
  public static final String STATE_KEY = "_machinekey";
  public static final String PROFILE_KEY = "_current-profile";
  public static final String LABEL_MANAGED = "tailscale.com/managed";
  /** Worker threads (system property {@code tsop.sim.threads}, default 4); 1 gives the old single-thread order. */
  public static final int DEFAULT_THREADS = Math.max(1, Integer.getInteger("tsop.sim.threads", 4));
  private static final Logger LOG = LoggerFactory.getLogger(ProxySimulator.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a simulated proxy is doing. */
  public enum Phase {
    /** No StatefulSet (or it is being deleted): not running. */
    STOPPED,
    /** Running and logged in. */
    RUNNING,
    /** tailscaled started from a config file without a usable auth key: containerboot exits and restarts. */
    NEEDS_LOGIN
  }

  private final KubernetesClient client;
  private final String namespace;
  private final FakeTailscaleApi api;
  private final ScheduledExecutorService worker;
  private final ExecutorService[] stripes;
  private final Set<String> queued = ConcurrentHashMap.newKeySet();
  /** Per Secret, the resourceVersion of the simulator's own last patch: its watch event needs no new pass. */
  private final Map<String, String> ownWrites = new ConcurrentHashMap<>();
  private final Map<String, Proxy> proxies = new ConcurrentHashMap<>();
  private final Set<String> paused = ConcurrentHashMap.newKeySet();
  private final Set<String> pausedPrefixes = ConcurrentHashMap.newKeySet();
  private final AtomicInteger logins = new AtomicInteger();
  private final AtomicInteger failedLogins = new AtomicInteger();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private SharedIndexInformer<StatefulSet> statefulSetInformer;
  private volatile int capVer = 131;
  private volatile boolean httpsEnabled = true;
  private volatile boolean running;
  /**
   * Whether a proxy runs only in a real Pod (the controller manager's StatefulSet controller makes them). Otherwise a
   * proxy whose Pod does not exist yet runs in a synthetic one, and would boot a second time (device keys reset) when
   * the real Pod appears: a restart no real proxy makes, seen by the operator as a device going away for a moment.
   */
  private final boolean realPodsOnly;

  private static final class Proxy {
    volatile String podUid;
    volatile Phase phase = Phase.STOPPED;
    volatile String lastError = "";
    /** While RUNNING: the device and the hostname it was last reconciled with (for the sweep's cheap check). */
    volatile String nodeId;
    volatile String hostname;
  }

  private ProxySimulator(KubernetesClient client, String namespace, FakeTailscaleApi api, boolean realPodsOnly) {
    this.client = client;
    this.realPodsOnly = realPodsOnly;
    this.namespace = namespace;
    this.api = api;
    this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "proxy-simulator-sweep");
      t.setDaemon(true);
      return t;
    });
    this.stripes = new ExecutorService[DEFAULT_THREADS];
    for (int i = 0; i < stripes.length; i++) {
      String name = "proxy-simulator-" + i;
      stripes[i] = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      });
    }
  }

  /** Starts simulating every proxy in {@code namespace}, in synthetic pods where no real Pod exists. */
  public static ProxySimulator start(KubernetesClient client, String namespace, FakeTailscaleApi api) {
    return start(client, namespace, api, false);
  }

  /**
   * Starts simulating every proxy in {@code namespace}.
   *
   * @param realPodsOnly a proxy runs only once its real Pod exists (true where the controller manager's StatefulSet
   *     controller runs); false: in a synthetic pod per StatefulSet template until then
   */
  public static ProxySimulator start(KubernetesClient client, String namespace, FakeTailscaleApi api,
      boolean realPodsOnly) {
    ProxySimulator sim = new ProxySimulator(client, namespace, api, realPodsOnly);
    sim.running = true;
    ResourceEventHandler<Object> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Object obj) {
        sim.touched(obj);
      }

      @Override
      public void onUpdate(Object oldObj, Object newObj) {
        sim.touched(newObj);
      }

      @Override
      public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
        sim.touched(obj);
      }
    };
    sim.informers.add(client.secrets().inNamespace(namespace).withLabel(LABEL_MANAGED, "true")
        .inform(cast(handler), 0));
    sim.statefulSetInformer = client.apps().statefulSets().inNamespace(namespace).withLabel(LABEL_MANAGED, "true")
        .inform(cast(handler), 0);
    sim.informers.add(sim.statefulSetInformer);
    sim.informers.add(client.configMaps().inNamespace(namespace).withLabel(LABEL_MANAGED, "true")
        .inform(cast(handler), 0));
    sim.informers.add(client.pods().inNamespace(namespace).withLabel(LABEL_MANAGED, "true")
        .inform(cast(handler), 0));
    // A crash-looping proxy retries its login every few seconds, and devices deleted in the control plane are noticed.
    sim.worker.scheduleWithFixedDelay(sim::sweep, 2, 2, TimeUnit.SECONDS);
    return sim;
  }

  @SuppressWarnings("unchecked")
  private static <T> ResourceEventHandler<T> cast(ResourceEventHandler<Object> h) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) h;
  }

  /** Capability version the simulated proxies report (default 131, the v1.94.2 proxy). */
  public ProxySimulator capVer(int capVer) {
    this.capVer = capVer;
    return this;
  }

  /** Whether the tailnet can issue certificates; when not, serve-config proxies report {@code no-https}. */
  public ProxySimulator httpsEnabled(boolean enabled) {
    this.httpsEnabled = enabled;
    return this;
  }

  /** Stops simulating one proxy (by StatefulSet name), as if its pod hung; {@link #resume} continues. */
  public void pause(String statefulSetName) {
    paused.add(statefulSetName);
  }

  /**
   * Stops simulating every proxy whose StatefulSet name starts with {@code prefix} (e.g. {@code ts-web-} for the proxy
   * of a Service {@code web}, before its generated name is known): its pod never logs in.
   */
  public void pausePrefix(String prefix) {
    pausedPrefixes.add(prefix);
  }

  /** Simulates the proxy again (also when it was paused by a {@link #pausePrefix prefix} of its name). */
  public void resume(String statefulSetName) {
    paused.remove(statefulSetName);
    pausedPrefixes.removeIf(statefulSetName::startsWith);
    enqueue(statefulSetName);
  }

  /** Successful logins so far (each consumed an auth key). */
  public int logins() {
    return logins.get();
  }

  /** Failed logins so far (missing, used, expired or revoked keys). */
  public int failedLogins() {
    return failedLogins.get();
  }

  /** What replica 0 of the proxy is doing. */
  public Phase phase(String statefulSetName) {
    return phase(statefulSetName, 0);
  }

  /** What replica {@code ordinal} (pod {@code <statefulSetName>-<ordinal>}) of the proxy is doing. */
  public Phase phase(String statefulSetName, int ordinal) {
    Proxy p = proxies.get(replicaName(statefulSetName, ordinal));
    return p == null ? Phase.STOPPED : p.phase;
  }

  public String lastError(String statefulSetName) {
    return lastError(statefulSetName, 0);
  }

  public String lastError(String statefulSetName, int ordinal) {
    Proxy p = proxies.get(replicaName(statefulSetName, ordinal));
    return p == null ? "" : p.lastError;
  }

  /** Re-evaluates every proxy now, each with a full pass (normally done on events and by the sweep every 2 s). */
  public void syncNow() {
    try {
      Set<String> names = new java.util.LinkedHashSet<>();
      for (StatefulSet s : client.apps().statefulSets().inNamespace(namespace).withLabel(LABEL_MANAGED, "true").list()
          .getItems()) {
        names.add(s.getMetadata().getName());
      }
      proxies.keySet().forEach(r -> names.add(stsOfReplica(r)));
      List<Future<?>> done = new ArrayList<>();
      for (String name : names) {
        done.add(stripe(name).submit(() -> sync(name)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (Future<?> f : done) {
        f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void touched(Object obj) {
    if (!running) {
      return;
    }
    String name = null;
    if (obj instanceof Secret s) {
      String own = ownWrites.get(s.getMetadata().getName());
      if (own != null && own.equals(s.getMetadata().getResourceVersion())) {
        return; // the event of the simulator's own patch: nothing new
      }
      String n = s.getMetadata().getName();
      String group = s.getMetadata().getLabels() == null ? null
          : s.getMetadata().getLabels().get("tailscale.com/proxy-group");
      name = group != null ? group
          : stsOfReplica(n.endsWith("-config") ? n.substring(0, n.length() - "-config".length()) : n);
    } else if (obj instanceof StatefulSet s) {
      name = s.getMetadata().getName();
    } else if (obj instanceof io.fabric8.kubernetes.api.model.ConfigMap cm) {
      String n = cm.getMetadata().getName();
      name = n.endsWith("-ingress-config") ? n.substring(0, n.length() - "-ingress-config".length())
          : n.endsWith("-egress-config") ? n.substring(0, n.length() - "-egress-config".length()) : null;
    } else if (obj instanceof Pod p) {
      name = stsOfReplica(p.getMetadata().getName());
    }
    if (name != null) {
      enqueue(name);
    }
  }

  private ExecutorService stripe(String sts) {
    return stripes[Math.floorMod(sts.hashCode(), stripes.length)];
  }

  /** Queues one pass for this proxy on its worker, unless one is already queued and not started. */
  private void enqueue(String sts) {
    if (!running || !queued.add(sts)) {
      return;
    }
    try {
      stripe(sts).execute(() -> {
        queued.remove(sts);
        sync(sts);
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      queued.remove(sts); // closing
    }
  }

  /** Every 2 s: queues the proxies whose state may have changed without an event (see the class comment). */
  private void sweep() {
    try {
      Set<String> names = new java.util.LinkedHashSet<>();
      for (StatefulSet s : statefulSetInformer.getStore().list()) {
        names.add(s.getMetadata().getName());
      }
      proxies.keySet().forEach(r -> names.add(stsOfReplica(r)));
      for (String name : names) {
        if (needsPass(name)) {
          enqueue(name);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("sweep failed: {}", e.toString());
    }
  }

  private boolean needsPass(String sts) {
    StatefulSet live = statefulSetInformer.getStore().getByKey(namespace + "/" + sts);
    int replicas = replicas(live);
    for (int i = 0; i < replicas; i++) {
      if (needsPass(sts, proxies.get(replicaName(sts, i)))) {
        return true;
      }
    }
    // replicas above the desired count (scale-down) or of a deleted StatefulSet that still run
    for (Map.Entry<String, Proxy> e : proxies.entrySet()) {
      if (stsOfReplica(e.getKey()).equals(sts) && ordinal(e.getKey()) >= replicas
          && e.getValue().phase != Phase.STOPPED) {
        return true;
      }
    }
    return false;
  }

  private boolean needsPass(String sts, Proxy p) {
    if (p == null) {
      return true;
    }
    switch (p.phase) {
      case NEEDS_LOGIN:
        return true; // containerboot crash-loops and retries
      case STOPPED:
        return statefulSetInformer.getStore().getByKey(namespace + "/" + sts) != null;
      default:
        String nodeId = p.nodeId;
        if (nodeId == null) {
          return true;
        }
        Optional<FakeDevice> d = api.device(nodeId);
        if (d.isEmpty() || !d.get().online()) {
          return true; // deleted in the control plane (logged out), or marked offline
        }
        String hostname = p.hostname;
        return hostname != null && !hostname.isEmpty() && !hostname.equalsIgnoreCase(d.get().hostname())
            && !hostname.equalsIgnoreCase(d.get().dnsLabel());
    }
  }

  private void sync(String sts) {
    if (!running || paused.contains(sts) || pausedPrefixes.stream().anyMatch(sts::startsWith)) {
      return;
    }
    try {
      doSync(sts);
    } catch (KubernetesClientException e) {
      LOG.debug("proxy {}: {}", sts, e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("proxy {}: {}", sts, e.toString());
    }
  }

  /**
   * One pass over every replica of a proxy: pods {@code <sts>-0} … {@code <sts>-<replicas-1>}, each with its own
   * config/state Secret of the same name and its own device (as the official operator's replicas are); replicas above
   * the desired count (after a scale-down) stop.
   */
  private void doSync(String stsName) {
    StatefulSet sts = client.apps().statefulSets().inNamespace(namespace).withName(stsName).get();
    int replicas = replicas(sts);
    Set<Integer> ordinals = new java.util.TreeSet<>();
    for (int i = 0; i < replicas; i++) {
      ordinals.add(i);
    }
    for (String known : new ArrayList<>(proxies.keySet())) {
      if (stsOfReplica(known).equals(stsName)) {
        ordinals.add(ordinal(known));
      }
    }
    for (int i : ordinals) {
      syncReplica(stsName, i < replicas ? sts : null, i);
    }
  }

  private void syncReplica(String stsName, StatefulSet sts, int ordinal) {
    String secretName = replicaName(stsName, ordinal);
    Proxy proxy = proxies.computeIfAbsent(secretName, k -> new Proxy());
    Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    String podUid = currentPodUid(sts, secretName);
    if (podUid == null || secret == null) {
      if (proxy.phase != Phase.STOPPED) {
        deviceOf(secret).ifPresent(d -> api.setOnline(d, false));
        proxy.phase = Phase.STOPPED;
      }
      proxy.podUid = null;
      proxy.nodeId = null;
      if (sts == null && secret == null) {
        proxies.remove(secretName);
        ownWrites.remove(secretName);
      }
      return;
    }
    Map<String, String> data = decode(secret);
    if (!podUid.equals(proxy.podUid)) {
      // containerboot start: reset the device keys, then write capver and pod UID.
      Map<String, String> boot = new LinkedHashMap<>();
      boot.put("device_id", null);
      boot.put("device_fqdn", null);
      boot.put("device_ips", null);
      boot.put("https_endpoint", null);
      boot.put("tailscale_capver", Integer.toString(capVer));
      boot.put("pod_uid", podUid);
      patch(secretName, boot, data);
      proxy.podUid = podUid;
      data.keySet().removeAll(Set.of("device_id", "device_fqdn", "device_ips", "https_endpoint"));
      data.put("tailscale_capver", Integer.toString(capVer));
      data.put("pod_uid", podUid);
    }
    JsonNode config = config(configData(sts, secretName, data));
    if (config == null) {
      proxy.phase = Phase.NEEDS_LOGIN;
      proxy.lastError = "no tailscaled config file found for current capability version " + capVer;
      return;
    }
    String hostname = text(config, "Hostname");
    String authKey = text(config, "AuthKey");
    String nodeId = data.get(STATE_KEY);
    Optional<FakeDevice> device = nodeId == null ? Optional.empty() : api.device(nodeId);
    if (device.isEmpty()) {
      if (nodeId != null && data.get("device_id") != null) {
        // The node was deleted in the control plane: tailscaled leaves Running, containerboot exits and restarts.
        Map<String, String> reset = new LinkedHashMap<>();
        reset.put("device_id", null);
        reset.put("device_fqdn", null);
        reset.put("device_ips", null);
        reset.put("https_endpoint", null);
        patch(secretName, reset, data);
        proxy.phase = Phase.NEEDS_LOGIN;
        proxy.lastError = "tailscaled left running state (now in state \"NeedsLogin\"), exiting";
        return;
      }
      if (authKey == null || authKey.isEmpty() || nodeId != null) {
        // A stale identity without a key, or no key at all: NeedsLogin, crash loop.
        if (proxy.phase != Phase.NEEDS_LOGIN) {
          failedLogins.incrementAndGet();
        }
        proxy.phase = Phase.NEEDS_LOGIN;
        proxy.lastError = "invalid state: tailscaled daemon started with a config file, but tailscale is not logged "
            + "in: ensure you pass a valid auth key in the config file.";
        return;
      }
      // A process runs only while its pod does: a sync that began before the StatefulSet was deleted must not
      // register a device afterwards (with a kubelet, the pod object goes only once its containers have stopped;
      // here it goes at once, and this sync would play a process that outlived its pod).
      if (currentPodUid(client.apps().statefulSets().inNamespace(namespace).withName(stsName).get(), secretName)
          == null) {
        return;
      }
      FakeDevice registered;
      try {
        registered = api.registerDevice(authKey, hostname);
      } catch (RegistrationException e) {
        if (proxy.phase != Phase.NEEDS_LOGIN || !e.getMessage().equals(proxy.lastError)) {
          failedLogins.incrementAndGet();
        }
        proxy.phase = Phase.NEEDS_LOGIN;
        proxy.lastError = e.getMessage();
        return;
      }
      logins.incrementAndGet();
      Map<String, String> login = new LinkedHashMap<>();
      login.put(STATE_KEY, registered.nodeId());
      login.put(PROFILE_KEY, "profile-" + registered.nodeId());
      patch(secretName, login, data);
      data.putAll(login);
      device = Optional.of(registered);
    }
    FakeDevice d = device.get();
    if (!d.online()) {
      d = api.setOnline(d.nodeId(), true);
    }
    if (hostname != null && !hostname.isEmpty() && !hostname.equalsIgnoreCase(d.hostname())
        && !hostname.equalsIgnoreCase(d.dnsLabel())) {
      d = rename(d, hostname);
    }
    // tailscaled advertises what its config's AdvertiseRoutes lists (subnet routes, the exit node's default routes)
    List<String> routes = new ArrayList<>();
    config.path("AdvertiseRoutes").forEach(r -> routes.add(r.asText()));
    if (!routes.equals(api.routes(d.nodeId()).advertised())) {
      api.advertiseRoutes(d.nodeId(), routes);
    }
    proxy.nodeId = d.nodeId();
    proxy.hostname = hostname;
    proxy.phase = Phase.RUNNING;
    proxy.lastError = "";
    Map<String, String> state = new LinkedHashMap<>();
    state.put("device_id", d.nodeId());
    state.put("device_fqdn", d.name() + ".");
    state.put("device_ips", toJson(d.addresses()));
    if (data.containsKey("serve-config")) {
      state.put("https_endpoint", httpsEnabled ? d.name() : "no-https");
    }
    groupIngress(sts, secretName, config, d, data, state);
    groupEgress(sts, secretName, data, state);
    Map<String, String> changed = new LinkedHashMap<>();
    state.forEach((k, v) -> {
      if (!v.equals(data.get(k))) {
        changed.put(k, v);
      }
    });
    if (!changed.isEmpty()) {
      patch(secretName, changed, data);
    }
  }

  /**
   * What a replica of an ingress ProxyGroup does besides logging in: tailscaled advertises the Tailscale Services its
   * config lists (its current profile's prefs in the state Secret show {@code AdvertiseServices}); containerboot routes
   * the HA Services of the group's ConfigMap ({@code ingress-config.json}) and reports them with its pod IP in the state
   * Secret; and replica 0, in certificate share read-write mode, issues a certificate for every domain of the group's
   * serve config into the Secret named after the domain, when the tailnet has HTTPS.
   */
  private void groupIngress(StatefulSet sts, String podName, JsonNode config, FakeDevice d, Map<String, String> data,
      Map<String, String> state) {
    List<String> advertised = new ArrayList<>();
    config.path("AdvertiseServices").forEach(n -> advertised.add(n.asText()));
    String profileKey = "profile-" + d.nodeId();
    if (!advertised.isEmpty() || data.containsKey(profileKey)) {
      var prefs = JSON.createObjectNode();
      var cfg = prefs.putObject("Config");
      cfg.put("NodeID", d.nodeId());
      cfg.putObject("UserProfile").put("LoginName", d.name() + ".");
      var a = prefs.putArray("AdvertiseServices");
      advertised.forEach(a::add);
      state.put(profileKey, prefs.toString());
    }
    k8sProxyCertificate(config, d);
    String env = env(sts, "TS_INGRESS_PROXIES_CONFIG_PATH");
    String cmName = configMapAt(sts, "/etc/proxies");
    if (env == null || cmName == null) {
      return;
    }
    var cm = client.configMaps().inNamespace(namespace).withName(cmName).get();
    if (cm == null || cm.getBinaryData() == null) {
      return;
    }
    String ingress = cm.getBinaryData().get("ingress-config.json");
    String podIp = podIp(podName);
    if (ingress != null && podIp != null) {
      try {
        var status = JSON.createObjectNode();
        status.set("configs", JSON.readTree(Base64.getDecoder().decode(ingress)));
        status.put("podIPv4", podIp);
        state.put("ingress-config.json", status.toString());
      } catch (Exception e) {
        LOG.debug("ingress-config.json of {} is not JSON", cmName);
      }
    }
    String serve = cm.getBinaryData().get("serve-config.json");
    if (serve == null || !httpsEnabled || !podName.endsWith("-0") || !"true".equals(env(sts,
        "TS_EXPERIMENTAL_CERT_SHARE"))) {
      return;
    }
    try {
      JsonNode services = JSON.readTree(Base64.getDecoder().decode(serve)).path("Services");
      for (JsonNode svc : services) {
        for (var it = svc.path("Web").fieldNames(); it.hasNext(); ) {
          String hostPort = it.next();
          String domain = hostPort.substring(0, hostPort.lastIndexOf(':'));
          Secret cert = client.secrets().inNamespace(namespace).withName(domain).get();
          if (cert != null && (cert.getData() == null || cert.getData().getOrDefault("tls.crt", "").isEmpty())) {
            String pem = "-----BEGIN CERTIFICATE-----\nsimulated certificate for " + domain
                + "\n-----END CERTIFICATE-----\n";
            String key = "-----BEGIN PRIVATE KEY-----\nsimulated key\n-----END PRIVATE KEY-----\n";
            client.secrets().inNamespace(namespace).withName(domain).patch(PatchContext.of(PatchType.JSON_MERGE),
                JSON.writeValueAsString(Map.of("data", Map.of(
                    "tls.crt", Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8)),
                    "tls.key", Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8))))));
          }
        }
      }
    } catch (Exception e) {
      LOG.debug("serve-config.json of {}: {}", cmName, e.toString());
    }
  }

  /**
   * What containerboot of an egress ProxyGroup replica reports once it has set up the firewall for the egress services
   * of the group's ConfigMap (key {@code egress-services}, mounted at {@code /etc/proxies}): state Secret key
   * {@code egress-services} = {@code {"podIPv4":…,"services":{name:{"ports":[…],"tailnetTargetIPs":[…],
   * "tailnetTarget":{…}}}}} ({@code egressservices.Status}); a name target resolved through the tailnet's devices.
   * Written only when the services differ from the reported ones or the pod IP changed, as containerboot does.
   */
  private void groupEgress(StatefulSet sts, String podName, Map<String, String> data, Map<String, String> state) {
    if (env(sts, "TS_EGRESS_PROXIES_CONFIG_PATH") == null) {
      return;
    }
    String cmName = configMapAt(sts, "/etc/proxies");
    var cm = cmName == null ? null : client.configMaps().inNamespace(namespace).withName(cmName).get();
    String raw = cm == null || cm.getBinaryData() == null ? null : cm.getBinaryData().get("egress-services");
    String podIp = podIp(podName);
    if (podIp == null) {
      return;
    }
    try {
      JsonNode cfgs = raw == null ? JSON.createObjectNode() : JSON.readTree(Base64.getDecoder().decode(raw));
      if (cfgs.isEmpty() && !data.containsKey("egress-services")) {
        return;
      }
      var status = JSON.createObjectNode();
      status.put("podIPv4", podIp);
      var services = status.putObject("services");
      for (var it = cfgs.fields(); it.hasNext(); ) {
        var e = it.next();
        var svc = services.putObject(e.getKey());
        svc.set("ports", e.getValue().path("ports"));
        var ips = svc.putArray("tailnetTargetIPs");
        String ip = e.getValue().path("tailnetTarget").path("ip").asText("");
        String fqdn = e.getValue().path("tailnetTarget").path("fqdn").asText("");
        if (!ip.isEmpty()) {
          ips.add(ip);
        } else {
          String want = fqdn.endsWith(".") ? fqdn.substring(0, fqdn.length() - 1) : fqdn;
          api.devices().stream().filter(dev -> dev.name().equalsIgnoreCase(want)).findFirst()
              .ifPresent(dev -> dev.addresses().forEach(ips::add));
        }
        svc.set("tailnetTarget", e.getValue().path("tailnetTarget"));
      }
      String before = data.get("egress-services");
      if (before != null) {
        JsonNode old = JSON.readTree(before);
        if (old.path("services").equals(status.path("services")) && podIp.equals(old.path("podIPv4").asText())) {
          return;
        }
      }
      state.put("egress-services", status.toString());
    } catch (Exception e) {
      LOG.debug("egress-services of {} is not JSON", cmName);
    }
  }

  /**
   * What the k8s-proxy of a kube-apiserver ProxyGroup's replica 0 ({@code APIServerProxy.IssueCerts}) does once its
   * config names the Tailscale Service ({@code APIServerProxy.ServiceName}): issues the certificate for
   * {@code <service>.<tailnet domain>} into the Secret of that name, when the tailnet has HTTPS.
   */
  private void k8sProxyCertificate(JsonNode config, FakeDevice d) {
    JsonNode proxy = config.path("APIServerProxy");
    String service = proxy.path("ServiceName").asText("");
    int dot = d.name().indexOf('.');
    if (!httpsEnabled || !proxy.path("IssueCerts").asBoolean(false) || !service.startsWith("svc:") || dot < 0) {
      return;
    }
    String domain = service.substring(4) + d.name().substring(dot);
    if (domain.endsWith(".")) {
      domain = domain.substring(0, domain.length() - 1);
    }
    Secret cert = client.secrets().inNamespace(namespace).withName(domain).get();
    if (cert == null || cert.getData() != null && !cert.getData().getOrDefault("tls.crt", "").isEmpty()) {
      return;
    }
    try {
      String pem = "-----BEGIN CERTIFICATE-----\nsimulated certificate for " + domain + "\n-----END CERTIFICATE-----\n";
      String key = "-----BEGIN PRIVATE KEY-----\nsimulated key\n-----END PRIVATE KEY-----\n";
      client.secrets().inNamespace(namespace).withName(domain).patch(PatchContext.of(PatchType.JSON_MERGE),
          JSON.writeValueAsString(Map.of("data", Map.of(
              "tls.crt", Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8)),
              "tls.key", Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8))))));
    } catch (Exception e) {
      LOG.debug("certificate of {}: {}", domain, e.toString());
    }
  }

  private static String env(StatefulSet sts, String name) {
    if (sts == null) {
      return null;
    }
    return sts.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> "tailscale".equals(c.getName()))
        .flatMap(c -> c.getEnv() == null ? java.util.stream.Stream.empty() : c.getEnv().stream())
        .filter(e -> name.equals(e.getName())).map(e -> e.getValue()).findFirst().orElse(null);
  }

  /** The ConfigMap mounted at {@code path} in the main container, or null. */
  private static String configMapAt(StatefulSet sts, String path) {
    if (sts == null) {
      return null;
    }
    var pod = sts.getSpec().getTemplate().getSpec();
    String volume = pod.getContainers().stream().filter(c -> "tailscale".equals(c.getName()))
        .flatMap(c -> c.getVolumeMounts() == null ? java.util.stream.Stream.empty() : c.getVolumeMounts().stream())
        .filter(m -> path.equals(m.getMountPath())).map(m -> m.getName()).findFirst().orElse(null);
    return pod.getVolumes() == null ? null : pod.getVolumes().stream().filter(v -> v.getName().equals(volume)
        && v.getConfigMap() != null).map(v -> v.getConfigMap().getName()).findFirst().orElse(null);
  }

  /** The IP the simulated kubelet gave a real pod ({@link #markRunning}), or null. */
  private String podIp(String podName) {
    Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
    return pod == null || pod.getStatus() == null ? null : pod.getStatus().getPodIP();
  }

  /** tailscaled reports a new hostname; the control plane renames the device, suffixing on clashes. */
  private FakeDevice rename(FakeDevice d, String hostname) {
    String base = hostname.toLowerCase();
    for (int i = 0; i < 100; i++) {
      String label = i == 0 ? base : base + "-" + i;
      try {
        return api.renameDevice(d.nodeId(), label);
      } catch (IllegalArgumentException e) {
        if (!e.getMessage().contains("already used")) {
          return d;
        }
      }
    }
    return d;
  }

  private Optional<String> deviceOf(Secret secret) {
    if (secret == null) {
      return Optional.empty();
    }
    String node = decode(secret).get(STATE_KEY);
    return node == null ? Optional.empty() : api.device(node).map(FakeDevice::nodeId);
  }

  /**
   * The UID of the running pod: the real Pod if one exists, else (unless only real Pods run proxies) a synthetic one
   * per StatefulSet revision.
   */
  private String currentPodUid(StatefulSet sts, String podName) {
    if (sts == null || sts.getMetadata().getDeletionTimestamp() != null) {
      return null;
    }
    Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
    if (pod != null) {
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        return null;
      }
      markRunning(pod);
      return pod.getMetadata().getUid();
    }
    if (realPodsOnly) {
      return null; // not started yet (or deleted and not made again yet)
    }
    String revision = sts.getMetadata().getUid() + "/" + sts.getMetadata().getGeneration() + "/" + podName;
    return UUID.nameUUIDFromBytes(revision.getBytes(StandardCharsets.UTF_8)).toString();
  }

  /**
   * Plays the kubelet's part for a real Pod of a proxy StatefulSet (none runs here): its status says Running and Ready,
   * with a pod IP, as soon as its proxy "starts", so that the StatefulSet controller goes on to the next ordinal
   * (pods of a StatefulSet are created one at a time, each once the previous one is ready).
   */
  private void markRunning(Pod pod) {
    if (pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())) {
      return;
    }
    int h = Math.floorMod(pod.getMetadata().getName().hashCode(), 250 * 250);
    String ip = "10.250." + (h / 250 + 1) + "." + (h % 250 + 1);
    String now = java.time.format.DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.now()
        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    StringBuilder conditions = new StringBuilder();
    for (String type : List.of("PodScheduled", "Initialized", "ContainersReady", "Ready")) {
      conditions.append(conditions.length() == 0 ? "" : ",").append("{\"type\":\"").append(type)
          .append("\",\"status\":\"True\",\"lastTransitionTime\":\"").append(now).append("\"}");
    }
    String body = "{\"status\":{\"phase\":\"Running\",\"podIP\":\"" + ip + "\",\"podIPs\":[{\"ip\":\"" + ip
        + "\"}],\"startTime\":\"" + now + "\",\"conditions\":[" + conditions + "]}}";
    try {
      client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), body);
    } catch (KubernetesClientException e) {
      LOG.debug("could not mark pod {} running: {}", pod.getMetadata().getName(), e.getMessage());
    }
  }

  /**
   * The files of the pod's tailscaled config dir, as containerboot finds them: the Secret mounted at
   * {@code TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR} ({@code <pg>-<i>-config} for a ProxyGroup replica; the state Secret
   * itself for other proxies).
   */
  private Map<String, String> configData(StatefulSet sts, String podName, Map<String, String> stateData) {
    String configSecret = configSecretName(sts, podName);
    if (configSecret == null || configSecret.equals(podName)) {
      return stateData;
    }
    return decode(client.secrets().inNamespace(namespace).withName(configSecret).get());
  }

  private static String configSecretName(StatefulSet sts, String podName) {
    if (sts == null || sts.getSpec() == null || sts.getSpec().getTemplate() == null) {
      return null;
    }
    var pod = sts.getSpec().getTemplate().getSpec();
    var main = pod.getContainers().stream().filter(c -> "tailscale".equals(c.getName())).findFirst().orElse(null);
    if (main == null || main.getEnv() == null) {
      return null;
    }
    // k8s-proxy (kube-apiserver ProxyGroups): TS_K8S_PROXY_CONFIG=kube:<namespace>/$(POD_NAME)-config names the Secret.
    String k8sProxy = main.getEnv().stream().filter(e -> "TS_K8S_PROXY_CONFIG".equals(e.getName()))
        .map(e -> e.getValue()).findFirst().orElse(null);
    if (k8sProxy != null && k8sProxy.startsWith("kube:")) {
      return k8sProxy.substring(k8sProxy.indexOf('/') + 1).replace("$(POD_NAME)", podName);
    }
    String dir = main.getEnv().stream().filter(e -> "TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR".equals(e.getName()))
        .map(e -> e.getValue()).findFirst().orElse(null);
    if (dir == null || main.getVolumeMounts() == null || pod.getVolumes() == null) {
      return null;
    }
    String path = dir.replace("$(POD_NAME)", podName);
    String volume = main.getVolumeMounts().stream().filter(m -> path.equals(m.getMountPath()))
        .map(m -> m.getName()).findFirst().orElse(null);
    return pod.getVolumes().stream().filter(v -> v.getName().equals(volume) && v.getSecret() != null)
        .map(v -> v.getSecret().getSecretName()).findFirst().orElse(null);
  }

  private JsonNode config(Map<String, String> data) {
    String best = null;
    int bestCap = -1;
    for (String key : data.keySet()) {
      if (key.startsWith("cap-") && key.endsWith(".hujson")) {
        try {
          int cap = Integer.parseInt(key.substring(4, key.length() - 7));
          if (cap <= capVer && cap > bestCap) {
            bestCap = cap;
            best = key;
          }
        } catch (NumberFormatException e) {
          // not a config file
        }
      }
    }
    if (best == null) {
      best = data.containsKey("config.hujson") ? "config.hujson" : null; // k8s-proxy's config file
    }
    if (best == null) {
      return null;
    }
    try {
      return JSON.readTree(data.get(best));
    } catch (Exception e) {
      return null;
    }
  }

  /**
   * Merge-patches {@code values} (null removes a key) into the Secret whose data was {@code before}. When the result is
   * exactly {@code before} plus {@code values} (nobody else wrote in between), the watch event of this patch is
   * skipped: it carries nothing the simulator has not seen.
   */
  private void patch(String secretName, Map<String, String> values, Map<String, String> before) {
    Map<String, Object> dataPatch = new LinkedHashMap<>();
    values.forEach((k, v) -> dataPatch.put(k, v == null ? null
        : Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    Map<String, Object> body = Map.of("data", dataPatch);
    try {
      Secret patched = client.secrets().inNamespace(namespace).withName(secretName)
          .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(body));
      Map<String, String> expected = new LinkedHashMap<>(before);
      values.forEach((k, v) -> {
        if (v == null) {
          expected.remove(k);
        } else {
          expected.put(k, v);
        }
      });
      if (patched != null && decode(patched).equals(expected)) {
        ownWrites.put(secretName, patched.getMetadata().getResourceVersion());
      } else {
        ownWrites.remove(secretName);
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> decode(Secret s) {
    Map<String, String> out = new LinkedHashMap<>();
    if (s == null || s.getData() == null) {
      return out;
    }
    s.getData().forEach((k, v) -> {
      if (v != null) {
        out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
      }
    });
    return out;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static String toJson(List<String> values) {
    try {
      return JSON.writeValueAsString(values);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String replicaName(String sts, int ordinal) {
    return sts + "-" + ordinal;
  }

  /** The ordinal of a replica's pod or Secret name ({@code <sts>-<ordinal>}), or -1. */
  private static int ordinal(String replicaName) {
    int dash = replicaName.lastIndexOf('-');
    try {
      return dash < 0 ? -1 : Integer.parseInt(replicaName.substring(dash + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Desired replicas of a StatefulSet (1 when unset, as the API server defaults it), 0 when gone or deleting. */
  private static int replicas(StatefulSet sts) {
    if (sts == null || sts.getMetadata().getDeletionTimestamp() != null) {
      return 0;
    }
    Integer r = sts.getSpec() == null ? null : sts.getSpec().getReplicas();
    return r == null ? 1 : r;
  }

  private static String stsOfReplica(String replicaName) {
    int dash = replicaName.lastIndexOf('-');
    return dash < 0 ? replicaName : replicaName.substring(0, dash);
  }

  /** Waits until the proxy of {@code statefulSetName} runs, or fails after {@code timeout}. */
  public void awaitRunning(String statefulSetName, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (phase(statefulSetName) != Phase.RUNNING) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("proxy " + statefulSetName + " is " + phase(statefulSetName) + ": "
            + lastError(statefulSetName));
      }
      Thread.sleep(50);
    }
  }

  @Override
  public void close() {
    running = false;
    informers.forEach(SharedIndexInformer::close);
    worker.shutdownNow();
    for (ExecutorService s : stripes) {
      s.shutdownNow();
    }
  }
}
