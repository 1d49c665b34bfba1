package io.tailops.testkit.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.kube.KubeApiServer;

/**
 * A kubelet for proxy Pods, on this machine: for every Pod in a namespace that carries the operator's label
 * ({@code tailscale.com/managed=true}, created by the StatefulSet controller of the test API server) and is not being
 * deleted, it runs the Pod's {@code tailscale} container with the real {@code containerboot} (and so
 * {@code tailscaled}) of {@link TailnetBinaries} — the release of the default proxy image.
 *
 * <h2>What it does for each Pod (see {@link LocalPod})</h2>
 * <ul>
 *   <li><b>Sandbox.</b> Kernel-mode pods ({@code TS_USERSPACE=false}, Service proxies) get their own network namespace
 *       from the {@link PodNetwork}; their init containers (the operator's {@code sysctler}) run inside it. Userspace
 *       pods (Ingress proxies) run in the host's namespace with a pod address of their own on the bridge (or
 *       127.0.0.1 without a pod network).</li>
 *   <li><b>Volumes.</b> Secret, ConfigMap ({@code items}, modes, {@code optional}) and emptyDir volumes are written in
 *       the kubelet's atomic layout under the pod's folder and rewritten when the Secret changes (containerboot
 *       watches them); environment values that point into a mount path are rewritten to the folder (e.g.
 *       {@code TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR=/etc/tsconfig/<pod>}).</li>
 *   <li><b>Environment.</b> Resolved as the kubelet does ({@link PodEnv}): {@code value} with {@code $(VAR)}
 *       expansion, {@code fieldRef} ({@code metadata.name}, {@code metadata.uid}, {@code status.podIP} = the pod
 *       address, ...), Secrets and ConfigMaps, plus the {@code KUBERNETES_SERVICE_*} variables.</li>
 *   <li><b>API server.</b> A service-account token (TokenRequest for the Pod's ServiceAccount, renewed) at the fixed
 *       path inside a private mount namespace (see {@code ContainerbootProcess}). With a pod network, the API server is
 *       reached exactly as in a cluster, at {@code https://kubernetes.default.svc} (port 443): the private
 *       {@code /etc/hosts} maps it to the cluster IP of the {@code default/kubernetes} Service, which the network's
 *       service router sends to a relay (on the node address, any port) that forwards to the API server on 127.0.0.1
 *       (its certificate is valid for that name). Without a service router the relay listens on the node address,
 *       port 443. Without a pod network, at 127.0.0.1 via {@code TS_KUBERNETES_READ_API_SERVER_ADDRESS_FROM_ENV}.</li>
 *   <li><b>Lifecycle.</b> A container that exits is restarted with the kubelet's doubling back-off (shorter here).
 *       A Pod that is deleted, or replaced under the same name with a new UID, is stopped (SIGTERM, then SIGKILL after
 *       its grace period) before its replacement starts; its sandbox and folder go, its log stays
 *       ({@code <work>/logs/<namespace>_<pod>_<uid>.log}). The Pod's status is patched as a kubelet would (Running with
 *       the pod IP, restarts, CrashLoopBackOff), and failures to start become Warning Events on the Pod.</li>
 * </ul>
 * <p><b>Node.</b> By default the runner acts as the kubelet of a Node it registers ({@code tsop-local}, Ready, with the
 * pod network's node address): it binds unscheduled Pods to it (there is no scheduler) and, when one is deleted, stops
 * its containers and then confirms the deletion (grace period 0), so the StatefulSet controller creates the replacement
 * only once the old processes are gone, and EndpointSlices list the pods. While the runner is stopped, deleted Pods
 * stay "Terminating" (as on a node that is down); the next runner confirms them.
 */
public final class LocalPodRunner implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LocalPodRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration TOKEN_LIFETIME = Duration.ofHours(24);
  /** The label of the operator's proxy Pods. */
  public static final String MANAGED_LABEL = "tailscale.com/managed";
  private static final String OWNER_FILE = "owner.pid";
  /** System property: a folder where runners without an explicit log folder keep their logs (kept on close). */
  public static final String LOG_DIR_PROPERTY = "tsop.podrunner.logDir";

  private final Builder cfg;
  private final KubernetesClient client;
  private final TailnetBinaries binaries;
  private final Path workDir;
  private final Path logDir;
  private final boolean ownsWorkDir;
  private final String caPem;
  private final ServiceProxy services;
  private final TcpRelay apiRelay;
  /** Where pods reach the API server on port 443: the kubernetes Service's cluster IP, or the node address. */
  private final String apiAddress;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<Secret> secrets;
  private final SharedIndexInformer<ConfigMap> configMaps;
  private final Map<String, Worker> workers = new ConcurrentHashMap<>();
  private final Set<String> reported = ConcurrentHashMap.newKeySet();
  private int nextPodDir = 1;
  private volatile boolean closed;

  private LocalPodRunner(Builder cfg) {
    this.cfg = cfg;
    this.client = cfg.kube.client();
    this.binaries = cfg.binaries != null ? cfg.binaries : TailnetBinaries.locate();
    binaries.requireTailscale();
    for (Rule r : cfg.programs) {
      if (!Files.isRegularFile(r.program()) || !Files.isExecutable(r.program())) {
        throw new IllegalStateException("the program " + r.program() + " for pods " + r + " is missing or not "
            + "executable (bash tools/build-binaries.sh builds the k8s-nameserver)");
      }
      if (cfg.network == null) {
        throw new IllegalArgumentException("pods " + r + " need a pod network (each runs in a network namespace)");
      }
    }
    try {
      if (cfg.workDir != null) {
        this.workDir = Files.createDirectories(cfg.workDir.toAbsolutePath());
        this.ownsWorkDir = false;
      } else {
        Path base = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        if (base.toString().length() > 20) {
          base = Path.of("/tmp");
        }
        removeDeadRunsWorkDirs(base);
        this.workDir = Files.createTempDirectory(base, "tsop-pods-").toAbsolutePath();
        Files.writeString(workDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        this.ownsWorkDir = true;
      }
      Path logs = cfg.logDir;
      if (logs == null && System.getProperty(LOG_DIR_PROPERTY) != null) {
        logs = Path.of(System.getProperty(LOG_DIR_PROPERTY)).toAbsolutePath().resolve(workDir.getFileName());
      }
      this.logDir = logs != null ? logs : workDir.resolve("logs");
      Files.createDirectories(logDir);
      this.caPem = Files.readString(cfg.kube.caCertificate());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (workDir.toString().length() > 40) {
      throw new IllegalArgumentException("work folder " + workDir + " is too long for the unix sockets inside it"
          + " (keep it under 40 characters)");
    }
    PodNetwork net = cfg.network;
    TcpRelay relay = null;
    ServiceProxy svc = null;
    String api = "127.0.0.1";
    if (net != null) {
      String clusterIp = net.routesServices() ? kubernetesServiceIp() : null;
      if (net.routesServices() && net.isServiceAddress(clusterIp)) {
        relay = TcpRelay.start("kube-apiserver", new InetSocketAddress(net.hostAddress(), 0),
            () -> new InetSocketAddress("127.0.0.1", cfg.kube.port()));
        net.mapServicePort(clusterIp, 443, relay.address());
        api = clusterIp;
      } else {
        relay = TcpRelay.start("kube-apiserver", new InetSocketAddress(net.hostAddress(), 443),
            () -> new InetSocketAddress("127.0.0.1", cfg.kube.port()));
        api = net.hostAddress();
      }
      if (cfg.serviceProxy) {
        svc = ServiceProxy.start(client, net);
      }
    }
    this.apiRelay = relay;
    this.apiAddress = api;
    this.services = svc;
    if (cfg.bindToNode) {
      ensureNode();
    }
    // Created first, started after every field is set (handlers run on other threads).
    this.secrets = client.secrets().inNamespace(cfg.namespace).runnableInformer(60_000L);
    this.configMaps = client.configMaps().inNamespace(cfg.namespace).runnableInformer(60_000L);
    // With one rule the informer selects by its label; with more, it watches the namespace and rules select.
    this.pods = cfg.programs.isEmpty() ? client.pods().inNamespace(cfg.namespace).withLabel(cfg.labelKey,
        cfg.labelValue).runnableInformer(30_000L) : client.pods().inNamespace(cfg.namespace).runnableInformer(30_000L);
    secrets.addEventHandler(new Handler<>(o -> secretChanged()));
    configMaps.addEventHandler(new Handler<>(o -> secretChanged()));
    pods.addEventHandler(new Handler<>(p -> signal(p.getMetadata().getName())));
    secrets.run();
    configMaps.run();
    pods.run();
    log.info("local pod runner for namespace {} (pods labelled {}={}{}): tailscale v{} from {}, {}, work folder {}",
        cfg.namespace, cfg.labelKey, cfg.labelValue, cfg.programs.stream().map(r -> ", " + r).reduce("", String::concat),
        binaries.tailscaleVersion(), binaries.tailscaleDir(),
        net == null ? "no pod network (userspace pods only, API server at 127.0.0.1)" : net + ", API server at "
            + apiAddress + ":443 (relay " + relay.address() + ")", workDir);
  }

  /**
   * Deletes the temporary work folders ({@code tsop-pods-*} under {@code base}) of runners whose JVM is gone (killed
   * before it could clean up): they hold the pods' state and volumes, Secrets included.
   */
  private static void removeDeadRunsWorkDirs(Path base) {
    try (var dirs = Files.newDirectoryStream(base, "tsop-pods-*")) {
      for (Path d : dirs) {
        Path owner = d.resolve(OWNER_FILE);
        if (!Files.isRegularFile(owner)) {
          continue;
        }
        long pid;
        try {
          pid = Long.parseLong(Files.readString(owner).strip());
        } catch (IOException | NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        log.info("removing the work folder of a dead pod runner (pid {}): {}", pid, d);
        AtomicVolumeWriter.deleteRecursively(d);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot look for dead runners' folders in {}: {}", base, e.toString());
    }
  }

  public static Builder builder(KubeApiServer kube) {
    return new Builder(Objects.requireNonNull(kube, "kube"));
  }

  private final class Handler<T> implements ResourceEventHandler<T> {
    private final java.util.function.Consumer<T> on;

    Handler(java.util.function.Consumer<T> on) {
      this.on = on;
    }

    @Override
    public void onAdd(T obj) {
      on.accept(obj);
    }

    @Override
    public void onUpdate(T oldObj, T newObj) {
      on.accept(newObj);
    }

    @Override
    public void onDelete(T obj, boolean deletedFinalStateUnknown) {
      on.accept(obj);
    }
  }

  // ------------------------------------------------------------------------------------------------ public view

  /** The pod network, or null (userspace pods only). */
  public PodNetwork network() {
    return cfg.network;
  }

  /** The kube-proxy emulation (cluster IPs and backends), or null without a pod network. */
  public ServiceProxy services() {
    return services;
  }

  public Path workDir() {
    return workDir;
  }

  /** One log file per pod UID: {@code <namespace>_<pod>_<uid>.log}. */
  public Path logDir() {
    return logDir;
  }

  public String namespace() {
    return cfg.namespace;
  }

  public TailnetBinaries binaries() {
    return binaries;
  }

  /** The pod currently run under {@code name}, if any. */
  public Optional<LocalPod> pod(String name) {
    Worker w = workers.get(name);
    return w == null ? Optional.empty() : Optional.ofNullable(w.current);
  }

  /** Every pod being run now. */
  public List<LocalPod> pods() {
    List<LocalPod> out = new ArrayList<>();
    for (Worker w : workers.values()) {
      LocalPod p = w.current;
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /** Waits until the pod run under {@code name} satisfies {@code condition}, and returns it. */
  public LocalPod awaitPod(String name, Predicate<LocalPod> condition, String what, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<LocalPod> p = pod(name).filter(condition);
      if (p.isPresent()) {
        return p.get();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for pod " + cfg.namespace + "/"
            + name + " to be " + what + "; now: " + pod(name).map(LocalPod::toString).orElse("not run")
            + pod(name).map(x -> "; last lines of " + x.logFile() + ":\n" + x.logTail(30)).orElse(""));
      }
      Host.sleep(200);
    }
  }

  /** Waits for a pod named {@code name} whose containerboot printed "Startup complete". */
  public LocalPod awaitStartupComplete(String name, Duration timeout) {
    long t0 = System.nanoTime();
    LocalPod p = awaitPod(name, x -> true, "started", timeout);
    return p.awaitStartupComplete(timeout.minusNanos(System.nanoTime() - t0));
  }

  // ------------------------------------------------------------------------------------------------ reconciling

  /** One thread per pod name: starts, restarts and stops the pods of that name one at a time, in order. */
  private final class Worker implements Runnable {
    private final String name;
    private final Object signal = new Object();
    private boolean dirty = true;
    private volatile LocalPod current;
    private final CountDownLatch done = new CountDownLatch(1);

    Worker(String name) {
      this.name = name;
    }

    void signal() {
      synchronized (signal) {
        dirty = true;
        signal.notifyAll();
      }
    }

    @Override
    public void run() {
      try {
        while (!closed) {
          synchronized (signal) {
            if (!dirty) {
              signal.wait(1000); // also notices exits and due restarts
            }
            dirty = false;
          }
          if (closed) {
            break;
          }
          try {
            if (!reconcile()) {
              break;
            }
          } catch (RuntimeException e) {
            log.warn("pod {}/{}: {}", cfg.namespace, name, e.toString(), e);
            Host.sleep(1000);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        done.countDown();
      }
    }

    /** @return false when this worker has nothing left to do (no pod, nothing running) */
    private boolean reconcile() {
      Pod pod = selectedPod(name);
      if (pod != null && cfg.bindToNode && pod.getMetadata().getDeletionTimestamp() == null
          && isEmpty(pod.getSpec().getNodeName())) {
        bind(pod); // the update comes back through the informer
        return true;
      }
      boolean ours = pod != null && (!cfg.bindToNode || cfg.nodeName.equals(pod.getSpec().getNodeName()));
      boolean wanted = ours && pod.getMetadata().getDeletionTimestamp() == null;
      LocalPod cur = current;
      if (cur != null && (!wanted || !cur.uid().equals(pod.getMetadata().getUid()))) {
        Duration grace = grace(pod != null && cur.uid().equals(pod.getMetadata().getUid()) ? pod : cur.pod());
        cur.stop(grace);
        current = null;
        cur = null;
      }
      if (ours && !wanted && cfg.bindToNode) {
        // graceful deletion of a pod on our node: its containers are stopped, so confirm it as the kubelet does
        finishDeletion(pod);
      }
      if (!wanted) {
        synchronized (workers) {
          if (selectedPod(name) == null || closed) {
            workers.remove(name, this);
            return false;
          }
        }
        return true;
      }
      if (cur == null) {
        cur = new LocalPod(LocalPodRunner.this, pod, newPodDir(), logDir().resolve(cfg.namespace + "_" + name + "_"
            + pod.getMetadata().getUid() + ".log"));
        current = cur;
      } else {
        cur.updatePod(pod);
      }
      if (cur.noteExit()) {
        patchStatus(cur, false, "CrashLoopBackOff", "back-off " + cur.backoff().toSeconds()
            + "s restarting failed container=" + containerName(pod) + " pod=" + name + "_" + cfg.namespace);
      }
      if (cur.startDue(Instant.now())) {
        try {
          cur.start();
          patchStatus(cur, true, null, null);
        } catch (LocalPod.NotReady e) {
          event(cur, e.reason, e.getMessage());
          log.info("pod {}/{} cannot start yet ({}): {}", cfg.namespace, name, e.reason, e.getMessage());
          patchStatus(cur, false, e.reason, e.getMessage());
          cur.retryIn("KernelModeUnavailable".equals(e.reason) ? Duration.ofSeconds(30) : Duration.ofSeconds(2));
        }
      } else if (cur.isRunning()) {
        try {
          cur.syncVolumes();
        } catch (LocalPod.NotReady e) {
          log.debug("pod {}/{}: volumes not refreshed: {}", cfg.namespace, name, e.getMessage());
        }
        cur.refreshTokenIfOld();
      }
      return true;
    }
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  /** Schedules the Pod onto this runner's node, as the scheduler would ({@code pods/binding}). */
  private void bind(Pod pod) {
    try {
      client.bindings().inNamespace(pod.getMetadata().getNamespace()).resource(new io.fabric8.kubernetes.api.model
          .BindingBuilder().withNewMetadata().withName(pod.getMetadata().getName())
          .withNamespace(pod.getMetadata().getNamespace()).withUid(pod.getMetadata().getUid()).endMetadata()
          .withNewTarget().withApiVersion("v1").withKind("Node").withName(cfg.nodeName).endTarget().build()).create();
      log.debug("pod {}/{} bound to node {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
          cfg.nodeName);
    } catch (KubernetesClientException e) {
      log.debug("pod {}/{} not bound: {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
          e.getMessage());
      Host.sleep(200);
    }
  }

  /** The kubelet's last step of a graceful deletion: delete with grace period 0 once the containers are gone. */
  private void finishDeletion(Pod pod) {
    try {
      client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
          .withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      log.debug("pod {}/{}: final deletion failed: {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
          e.getMessage());
    }
  }

  /** A Node object for this runner's pods (so that they are scheduled, and EndpointSlices can list them). */
  private void ensureNode() {
    String addr = hostIp();
    try {
      if (client.nodes().withName(cfg.nodeName).get() == null) {
        client.nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata()
            .withName(cfg.nodeName).addToLabels("kubernetes.io/hostname", cfg.nodeName)
            .addToLabels("kubernetes.io/os", "linux").addToLabels("tailscale.com/local-pod-runner", "true")
            .endMetadata().build()).create();
      }
      String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(
          java.time.temporal.ChronoUnit.SECONDS));
      ObjectNode patch = JSON.createObjectNode();
      ObjectNode st = patch.putObject("status");
      st.putArray("conditions").addObject().put("type", "Ready").put("status", "True").put("reason", "KubeletReady")
          .put("message", "local pod runner is posting ready status").put("lastHeartbeatTime", now)
          .put("lastTransitionTime", now);
      st.putArray("addresses").addObject().put("type", "InternalIP").put("address", addr);
      st.withArray("addresses").addObject().put("type", "Hostname").put("address", cfg.nodeName);
      st.putObject("nodeInfo").put("kubeletVersion", "tsop-local-pod-runner").put("operatingSystem", "linux")
          .put("architecture", "amd64").put("containerRuntimeVersion", "local://containerboot")
          .put("kernelVersion", "").put("osImage", "").put("kubeProxyVersion", "").put("machineID", "")
          .put("systemUUID", "").put("bootID", "");
      client.nodes().withName(cfg.nodeName).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
          patch.toString());
    } catch (KubernetesClientException e) {
      log.warn("cannot register node {}: {}", cfg.nodeName, e.getMessage());
    }
  }

  private Duration grace(Pod pod) {
    if (pod != null && pod.getMetadata().getDeletionGracePeriodSeconds() != null
        && pod.getMetadata().getDeletionTimestamp() != null) {
      Duration d = Duration.ofSeconds(Math.max(1, pod.getMetadata().getDeletionGracePeriodSeconds()));
      return d.compareTo(cfg.maxStopGrace) > 0 ? cfg.maxStopGrace : d;
    }
    Long g = pod == null || pod.getSpec() == null ? null : pod.getSpec().getTerminationGracePeriodSeconds();
    Duration d = g == null ? Duration.ofSeconds(30) : Duration.ofSeconds(Math.max(1, g));
    return d.compareTo(cfg.maxStopGrace) > 0 ? cfg.maxStopGrace : d;
  }

  private synchronized Path newPodDir() {
    return workDir.resolve("pods").resolve(Integer.toString(nextPodDir++));
  }

  private void signal(String podName) {
    if (closed) {
      return;
    }
    synchronized (workers) {
      Worker w = workers.get(podName);
      if (w == null) {
        Pod p = selectedPod(podName);
        if (p == null) {
          return; // nothing runs and nothing should
        }
        if (p.getMetadata().getDeletionTimestamp() != null && !(cfg.bindToNode && cfg.nodeName.equals(
            p.getSpec().getNodeName()))) {
          return; // being deleted and not ours to confirm
        }
        w = new Worker(podName);
        workers.put(podName, w);
        Thread t = new Thread(w, "tsop-pod-" + podName);
        t.setDaemon(true);
        t.start();
      }
      w.signal();
    }
  }

  private void secretChanged() {
    for (Worker w : workers.values()) {
      w.signal();
    }
  }

  // ------------------------------------------------------------------------------------------------ kubelet's side

  /** A token for the Pod's ServiceAccount (TokenRequest, {@link #TOKEN_LIFETIME}). */
  String serviceAccountToken(Pod pod) throws LocalPod.NotReady {
    String sa = pod.getSpec().getServiceAccountName() == null || pod.getSpec().getServiceAccountName().isEmpty()
        ? "default" : pod.getSpec().getServiceAccountName();
    try {
      var tr = client.serviceAccounts().inNamespace(pod.getMetadata().getNamespace()).withName(sa)
          .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(TOKEN_LIFETIME.toSeconds())
              .endSpec().build());
      return tr.getStatus().getToken();
    } catch (KubernetesClientException e) {
      throw new LocalPod.NotReady("FailedMount", "cannot get a token for ServiceAccount "
          + pod.getMetadata().getNamespace() + "/" + sa + ": " + (e.getCode() == 404 ? "serviceaccount \"" + sa
          + "\" not found" : e.getMessage()));
    }
  }

  /** The variables the kubelet adds for the API server Service. */
  Map<String, String> serviceEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    if (cfg.network != null) {
      String host = apiAddress;
      env.put("KUBERNETES_SERVICE_HOST", host);
      env.put("KUBERNETES_SERVICE_PORT", "443");
      env.put("KUBERNETES_SERVICE_PORT_HTTPS", "443");
      env.put("KUBERNETES_PORT", "tcp://" + host + ":443");
      env.put("KUBERNETES_PORT_443_TCP", "tcp://" + host + ":443");
      env.put("KUBERNETES_PORT_443_TCP_PROTO", "tcp");
      env.put("KUBERNETES_PORT_443_TCP_PORT", "443");
      env.put("KUBERNETES_PORT_443_TCP_ADDR", host);
    } else {
      String port = Integer.toString(cfg.kube.port());
      env.put("KUBERNETES_SERVICE_HOST", "127.0.0.1");
      env.put("KUBERNETES_SERVICE_PORT", port);
      env.put("KUBERNETES_SERVICE_PORT_HTTPS", port);
      // not a kubelet variable: the API server is not at https://kubernetes.default.svc:443 here
      env.put("TS_KUBERNETES_READ_API_SERVER_ADDRESS_FROM_ENV", "true");
    }
    return env;
  }

  PodEnv.Sources envSources() {
    return new PodEnv.Sources(this::secret, this::configMap);
  }

  Secret secret(String namespace, String name) {
    if (cfg.namespace.equals(namespace)) {
      return secrets.getStore().getByKey(namespace + "/" + name);
    }
    return client.secrets().inNamespace(namespace).withName(name).get();
  }

  ConfigMap configMap(String namespace, String name) {
    if (cfg.namespace.equals(namespace)) {
      return configMaps.getStore().getByKey(namespace + "/" + name);
    }
    return client.configMaps().inNamespace(namespace).withName(name).get();
  }

  /**
   * Which Pods run here and with what: the label that selects them, the container that runs, and the program it runs
   * (null: containerboot, the proxy image's entrypoint).
   */
  record Rule(String labelKey, String labelValue, String containerName, Path program) {
    boolean selects(Pod pod) {
      var labels = pod.getMetadata().getLabels();
      return labels != null && labelValue.equals(labels.get(labelKey));
    }

    @Override
    public String toString() {
      return labelKey + "=" + labelValue + " (container " + containerName + ": " + (program == null ? "containerboot"
          : program.toString()) + ")";
    }
  }

  /** The rule that selects {@code pod}: the containerboot rule first, then the programs in the order given. */
  Optional<Rule> ruleFor(Pod pod) {
    Rule proxies = new Rule(cfg.labelKey, cfg.labelValue, cfg.containerName, null);
    if (proxies.selects(pod)) {
      return Optional.of(proxies);
    }
    return cfg.programs.stream().filter(r -> r.selects(pod)).findFirst();
  }

  /** The pod named {@code name} if a rule selects it. */
  private Pod selectedPod(String name) {
    Pod p = pods.getStore().getByKey(cfg.namespace + "/" + name);
    return p != null && ruleFor(p).isPresent() ? p : null;
  }

  Container mainContainer(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return null;
    }
    String name = containerName(pod);
    return pod.getSpec().getContainers().stream().filter(c -> name.equals(c.getName())).findFirst().orElse(null);
  }

  /** The container of {@code pod} that runs here. */
  String containerName(Pod pod) {
    return ruleFor(pod).map(Rule::containerName).orElse(cfg.containerName);
  }

  /** The program {@code pod}'s container runs instead of containerboot, or null. */
  Path program(Pod pod) {
    return ruleFor(pod).map(Rule::program).orElse(null);
  }

  /** The cluster IP of {@code default/kubernetes}, which the API server creates soon after it starts (or null). */
  private String kubernetesServiceIp() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      var svc = client.services().inNamespace("default").withName("kubernetes").get();
      if (svc != null && svc.getSpec().getClusterIP() != null) {
        return svc.getSpec().getClusterIP();
      }
      if (System.nanoTime() > deadline) {
        log.warn("no Service default/kubernetes after 30 s: pods reach the API server at the node address, port 443");
        return null;
      }
      Host.sleep(100);
    }
  }

  /** The address pods reach the API server at, on port 443 (see the class comment). */
  String apiAddress() {
    return apiAddress;
  }

  String hostIp() {
    return cfg.network != null ? cfg.network.hostAddress() : "127.0.0.1";
  }

  String nodeName() {
    return cfg.nodeName;
  }

  String caPem() {
    return caPem;
  }

  Map<String, String> extraEnv() {
    return cfg.env;
  }

  Duration initialBackoff() {
    return cfg.initialBackoff;
  }

  Duration maxBackoff() {
    return cfg.maxBackoff;
  }

  /** Patches the Pod's status as a kubelet would (precondition: the same UID, so a replacement is never touched). */
  private void patchStatus(LocalPod p, boolean running, String waitingReason, String message) {
    String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    Pod pod = p.pod();
    ObjectNode patch = JSON.createObjectNode();
    patch.putObject("metadata").put("uid", p.uid());
    ObjectNode st = patch.putObject("status");
    st.put("phase", running || p.restarts() > 0 || p.startedAt() != null ? "Running" : "Pending");
    String ip = p.podIp();
    if (ip != null) {
      st.put("podIP", ip);
      st.putArray("podIPs").addObject().put("ip", ip);
    }
    st.put("hostIP", hostIp());
    st.putArray("hostIPs").addObject().put("ip", hostIp());
    if (pod.getStatus() == null || pod.getStatus().getStartTime() == null) {
      st.put("startTime", now);
    }
    ArrayNode conds = st.putArray("conditions");
    boolean initialized = running || p.startedAt() != null;
    for (String[] c : new String[][] {{"PodReadyToStartContainers", "True"}, {"Initialized", initialized ? "True"
        : "False"}, {"Ready", running ? "True" : "False"}, {"ContainersReady", running ? "True" : "False"},
        {"PodScheduled", "True"}}) {
      ObjectNode n = conds.addObject().put("type", c[0]).put("status", c[1]).put("lastTransitionTime", now);
      if ("False".equals(c[1]) && message != null) {
        n.put("reason", "ContainersNotReady");
        n.put("message", "containers with unready status: [" + containerName(pod) + "]");
      }
    }
    Container c = mainContainer(pod);
    ObjectNode cs = st.putArray("containerStatuses").addObject()
        .put("name", containerName(pod))
        .put("image", c == null || c.getImage() == null ? "" : c.getImage())
        .put("imageID", "local://" + (program(pod) == null ? binaries.containerboot() : program(pod)))
        .put("containerID", "local://" + p.uid() + "/" + p.restarts())
        .put("ready", running)
        .put("started", running)
        .put("restartCount", p.restarts());
    ObjectNode state = cs.putObject("state");
    if (running) {
      state.putObject("running").put("startedAt", now);
    } else {
      ObjectNode w = state.putObject("waiting").put("reason", waitingReason == null ? "ContainerCreating"
          : waitingReason);
      if (message != null) {
        w.put("message", message);
      }
    }
    if (p.lastExitCode() >= 0) {
      cs.putObject("lastState").putObject("terminated").put("exitCode", p.lastExitCode())
          .put("reason", p.lastExitCode() == 0 ? "Completed" : "Error").put("finishedAt", now);
    }
    if (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty()) {
      ArrayNode ics = st.putArray("initContainerStatuses");
      for (Container ic : pod.getSpec().getInitContainers()) {
        ObjectNode n = ics.addObject().put("name", ic.getName()).put("image", ic.getImage() == null ? ""
            : ic.getImage()).put("imageID", "").put("ready", initialized).put("restartCount", 0);
        if (initialized) {
          n.putObject("state").putObject("terminated").put("exitCode", 0).put("reason", "Completed");
        } else {
          n.putObject("state").putObject("waiting").put("reason", "PodInitializing");
        }
      }
    }
    try {
      client.pods().inNamespace(p.namespace()).withName(p.name()).subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    } catch (KubernetesClientException e) {
      log.debug("pod {}/{}: status not patched: {}", p.namespace(), p.name(), e.getMessage());
    }
  }

  /** A Warning Event on the Pod (once per pod UID, reason and message). */
  private void event(LocalPod p, String reason, String message) {
    if (!reported.add(p.uid() + "/" + reason + "/" + message)) {
      return;
    }
    String now = DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    try {
      client.v1().events().inNamespace(p.namespace()).resource(new EventBuilder()
          .withNewMetadata().withGenerateName(p.name() + ".").withNamespace(p.namespace()).endMetadata()
          .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
              .withNamespace(p.namespace()).withName(p.name()).withUid(p.uid()).build())
          .withType("Warning").withReason(reason).withMessage(message)
          .withNewSource().withComponent("tsop-local-pod-runner").withHost(cfg.nodeName).endSource()
          .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
          .build()).create();
    } catch (KubernetesClientException e) {
      log.debug("event {} on pod {}/{} not recorded: {}", reason, p.namespace(), p.name(), e.getMessage());
    }
  }

  // ------------------------------------------------------------------------------------------------ closing

  /**
   * Stops watching, stops every pod (in parallel; SIGTERM, then SIGKILL after the grace period), closes the relays
   * and the Service proxy, and deletes the work folder unless it was given or kept (logs included). The pod network is
   * the caller's to close.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    pods.close();
    secrets.close();
    configMaps.close();
    List<Worker> all = new ArrayList<>(workers.values());
    for (Worker w : all) {
      w.signal();
    }
    for (Worker w : all) {
      try {
        w.done.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Thread> stoppers = new ArrayList<>();
    for (Worker w : all) {
      LocalPod p = w.current;
      if (p != null) {
        Thread t = new Thread(() -> p.stop(grace(p.pod())), "tsop-pod-stop-" + p.name());
        t.start();
        stoppers.add(t);
      }
    }
    for (Thread t : stoppers) {
      try {
        t.join(cfg.maxStopGrace.toMillis() + 15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    workers.clear();
    if (services != null) {
      services.close();
    }
    if (apiRelay != null) {
      apiRelay.close();
    }
    if (ownsWorkDir && !cfg.keepWorkDir) {
      try {
        AtomicVolumeWriter.deleteRecursively(workDir);
      } catch (IOException e) {
        log.debug("cannot delete {}: {}", workDir, e.toString());
      }
    }
    if (Files.isDirectory(logDir)) {
      log.info("local pod runner: logs kept in {}", logDir);
    }
  }

  @Override
  public String toString() {
    return "LocalPodRunner[" + cfg.namespace + ", " + workDir + ", " + Collections.unmodifiableSet(workers.keySet())
        + "]";
  }

  /** Configuration of a {@link LocalPodRunner}. */
  public static final class Builder {
    private final KubeApiServer kube;
    private String namespace = "tailscale";
    private String labelKey = MANAGED_LABEL;
    private String labelValue = "true";
    private String containerName = "tailscale";
    private String nodeName = "tsop-local";
    private PodNetwork network;
    private boolean serviceProxy = true;
    private TailnetBinaries binaries;
    private Path workDir;
    private boolean keepWorkDir = Boolean.getBoolean("tsop.tailnet.keep");
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(10);
    private Duration maxStopGrace = Duration.ofSeconds(30);
    private boolean bindToNode = true;
    private Path logDir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<Rule> programs = new ArrayList<>();

    private Builder(KubeApiServer kube) {
      this.kube = kube;
    }

    /** The namespace whose Pods run here (default {@code tailscale}). */
    public Builder namespace(String ns) {
      this.namespace = Objects.requireNonNull(ns, "ns");
      return this;
    }

    /** The label selecting Pods (default {@code tailscale.com/managed=true}). */
    public Builder label(String key, String value) {
      this.labelKey = Objects.requireNonNull(key, "key");
      this.labelValue = Objects.requireNonNull(value, "value");
      return this;
    }

    /**
     * Also run the Pods labelled {@code labelKey=labelValue}: their container {@code containerName} runs
     * {@code program} (a static binary, e.g. the ts.net nameserver {@link TailnetBinaries#k8sNameserver()}) chrooted
     * into a root of its own with the container's volume mounts, in a network namespace of its own with the pod
     * address (see {@code MinimalRootProcess}). Other containers are not run. Needs a pod network.
     */
    public Builder program(String labelKey, String labelValue, String containerName, Path program) {
      programs.add(new Rule(labelKey, labelValue, containerName, program));
      return this;
    }

    /** The container run with containerboot (default {@code tailscale}); other containers are not run. */
    public Builder containerName(String name) {
      this.containerName = Objects.requireNonNull(name, "name");
      return this;
    }

    /** What {@code spec.nodeName} resolves to in the environment (default {@code tsop-local}). */
    public Builder nodeName(String name) {
      this.nodeName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * The pod network (kernel-mode pods, pod addresses, API server relay and, unless turned off, the
     * {@link ServiceProxy}); without it only userspace pods run, with the API server at 127.0.0.1.
     */
    public Builder network(PodNetwork network) {
      this.network = network;
      return this;
    }

    /**
     * Whether to act as the node's kubelet (default true): register a Node named {@link #nodeName(String)}, bind
     * unscheduled Pods to it, and confirm their graceful deletion (delete with grace period 0) once their containers
     * stopped, so that the StatefulSet controller creates a replacement only after the old pod's processes are gone,
     * as in a cluster. Without it Pods stay unscheduled (deleted at once by the API server) and get no Node.
     */
    public Builder bindToNode(boolean on) {
      this.bindToNode = on;
      return this;
    }

    /** Whether to run a {@link ServiceProxy} on the pod network (default true). */
    public Builder serviceProxy(boolean on) {
      this.serviceProxy = on;
      return this;
    }

    public Builder binaries(TailnetBinaries binaries) {
      this.binaries = binaries;
      return this;
    }

    /** Work folder (pods' volumes and state, logs); default a new short temporary folder, deleted on close. */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /**
     * Where the pods' logs go (kept on close); default {@code logs} in the work folder (deleted on close unless kept),
     * or a folder per runner under the system property {@value LocalPodRunner#LOG_DIR_PROPERTY} when set.
     */
    public Builder logDir(Path dir) {
      this.logDir = dir;
      return this;
    }

    /** Keep the temporary work folder (logs) on close; default: the system property {@code tsop.tailnet.keep}. */
    public Builder keepWorkDir(boolean keep) {
      this.keepWorkDir = keep;
      return this;
    }

    /** Restart back-off of exited containers: doubles from {@code initial} up to {@code max} (default 1 s, 10 s). */
    public Builder restartBackoff(Duration initial, Duration max) {
      this.initialBackoff = Objects.requireNonNull(initial, "initial");
      this.maxBackoff = Objects.requireNonNull(max, "max");
      return this;
    }

    /** The longest a stopping pod gets before SIGKILL, whatever its grace period (default 30 s). */
    public Builder maxStopGrace(Duration max) {
      this.maxStopGrace = Objects.requireNonNull(max, "max");
      return this;
    }

    /**
     * An environment variable for every container, before the Pod's own (which win), e.g. a {@code TS_DEBUG_*} knob.
     * The loopback-only knobs of {@code TailnetEnv} are always set.
     */
    public Builder env(String name, String value) {
      this.env.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Builds and starts watching; pods already there start at once. */
    public LocalPodRunner start() {
      return new LocalPodRunner(this);
    }
  }
}
