package io.tailops.testkit.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.tailops.testkit.LoopbackPorts;
import io.tailops.testkit.WatchedProcess;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * A real Kubernetes control plane on loopback for tests and the local environment: etcd, kube-apiserver and,
 * optionally, kube-controller-manager, built from Go modules by {@code tools/build-binaries.sh}. No nodes: pods are
 * created and stored but never run.
 *
 * <pre>{@code
 * try (KubeApiServer kube = KubeApiServer.builder()
 *     .controllerManager(true)          // GC, namespace deletion, StatefulSet -> Pods, ...
 *     .auditLog(true)                   // count requests with audit()
 *     .crdsFromClasspath("META-INF/fabric8/proxyclasses.tailscale.com-v1.yml")
 *     .start()) {
 *   KubernetesClient client = kube.client();      // admin (system:masters), shared, closed by close()
 *   Path kubeconfig = kube.kubeconfig();           // the same credentials for other processes and kubectl
 *   kube.restartApiServer();                       // same port, same etcd data
 * }
 * }</pre>
 *
 * <p>Why not fabric8 kube-api-test's {@code KubeAPIServer} (which reads the same binary layout, and which
 * {@code KubeApiTestCompatibilityTest} still runs): in 7.5.2 it cannot stop and start the API server alone (its
 * {@code stop()} also kills etcd and deletes its data, and an API server exit tears everything down), picks new random
 * ports on every start, binds etcd to 0.0.0.0, writes its certificates into the shared binary folder, has no
 * controller manager and no audit log, and leaves processes behind when the JVM is killed. This class does those
 * things; everything else (flags, certificates, readiness) follows kube-api-test and controller-runtime's envtest.
 *
 * <p>Processes never outlive the JVM (see {@link WatchedProcess}); a shutdown hook closes running instances.
 */
public final class KubeApiServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubeApiServer.class);

  /** The admin user: a client certificate in group {@code system:masters}. */
  public static final String ADMIN_USER = "tsop-admin";
  /** The controller manager's user (also in {@code system:masters}). */
  public static final String CONTROLLER_MANAGER_USER = "system:kube-controller-manager";
  /** User agent of the launcher's own health checks and audit markers. */
  public static final String LAUNCHER_USER_AGENT = "tsop-testkit-launcher";
  /**
   * Controllers run by default when the controller manager is on: ownerReference garbage collection (including
   * foreground deletion), namespace deletion, workload controllers that create Pods and ReplicaSets, default service
   * accounts, the {@code kube-root-ca.crt} ConfigMap and EndpointSlices, as in a real cluster.
   */
  public static final List<String> DEFAULT_CONTROLLERS = List.of(
      "garbage-collector-controller", "namespace-controller", "statefulset-controller", "deployment-controller",
      "replicaset-controller", "serviceaccount-controller", "root-ca-certificate-publisher-controller",
      "endpointslice-controller");

  private static final Set<KubeApiServer> RUNNING = Collections.synchronizedSet(new LinkedHashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<KubeApiServer> all;
      synchronized (RUNNING) {
        all = new ArrayList<>(RUNNING);
      }
      Collections.reverse(all);
      all.forEach(KubeApiServer::stopFromShutdownHook);
    }, "tsop-kube-shutdown"));
  }

  private final Builder cfg;
  private final KubeBinaries binaries;
  private final Path workDir;
  private final boolean ownsWorkDir;

  private KubePki pki;
  private KubePki.Issued admin;
  private Path caFile;
  private Path adminKubeconfig;
  private HttpClient http;
  private int etcdPort;
  private int etcdPeerPort;
  private int apiPort;
  private int kcmPort;
  private volatile WatchedProcess etcd;
  private volatile WatchedProcess apiServer;
  private volatile WatchedProcess controllerManager;
  private KubernetesClient client;
  private AuditLog audit;
  /** Since when the API server is down or starting (null while it is ready), and the earlier such periods. */
  private volatile Instant notReadySince;
  private final List<Instant[]> notReadyPeriods = new java.util.concurrent.CopyOnWriteArrayList<>();
  private boolean started;
  private boolean closed;

  private KubeApiServer(Builder cfg) {
    this.cfg = cfg;
    this.binaries = cfg.binaries != null ? cfg.binaries : KubeBinaries.locate();
    try {
      if (cfg.workDir != null) {
        this.workDir = Files.createDirectories(cfg.workDir.toAbsolutePath());
        this.ownsWorkDir = false;
      } else {
        this.workDir = Files.createTempDirectory("tsop-kube-").toAbsolutePath();
        this.ownsWorkDir = true;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the work folder", e);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /**
   * Starts etcd, the API server and (if enabled) the controller manager, and installs the configured CRDs. Returns
   * when the API server answers {@code /readyz} and the {@code default} namespace exists.
   *
   * @throws IllegalStateException if a binary is missing (the message names {@code tools/build-binaries.sh}) or a
   *                               component does not start (the message carries the end of its log)
   */
  public synchronized KubeApiServer start() {
    if (started) {
      throw new IllegalStateException("already started");
    }
    List<String> needed = new ArrayList<>(List.of(KubeBinaries.KUBE_APISERVER, KubeBinaries.ETCD));
    if (cfg.controllerManager) {
      needed.add(KubeBinaries.KUBE_CONTROLLER_MANAGER);
    }
    try {
      binaries.require(needed.toArray(String[]::new));
    } catch (IllegalStateException e) {
      if (ownsWorkDir) {
        deleteRecursively(workDir);
      }
      throw e;
    }
    long t0 = System.nanoTime();
    started = true;
    RUNNING.add(this);
    try {
      prepareFiles();
      startEtcd();
      apiPort = freePort();
      startApiServerProcess();
      client = newClient();
      waitFor("the default namespace", cfg.startupTimeout, apiServer,
          () -> client.namespaces().withName("default").get() != null);
      if (cfg.controllerManager) {
        startControllerManager();
      }
      for (String r : cfg.classpathCrds) {
        installCrdsFromClasspath(r);
      }
      for (Path p : cfg.crdFiles) {
        installCrds(p);
      }
      log.info("Kubernetes v{} API server ready at {} in {} ms (etcd 127.0.0.1:{}, controller manager: {}, audit: {});"
          + " kubeconfig {}", binaries.version(), url(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          etcdPort, cfg.controllerManager ? "127.0.0.1:" + kcmPort : "off", cfg.auditLog ? auditFile() : "off",
          adminKubeconfig);
      return this;
    } catch (RuntimeException | Error e) {
      closeQuietly();
      throw e;
    }
  }

  /**
   * Stops the API server only (SIGTERM, graceful); etcd keeps the data and the controller manager keeps retrying.
   * Clients see connection errors until {@link #startApiServer()}.
   */
  public synchronized void stopApiServer() {
    checkStarted();
    if (notReadySince == null) {
      notReadySince = Instant.now();
    }
    if (apiServer != null) {
      apiServer.stop(cfg.stopTimeout);
      log.info("API server stopped ({} still up)", cfg.controllerManager ? "etcd and controller manager" : "etcd");
    }
  }

  /** Kills the API server with SIGKILL, as a crash would. */
  public synchronized void killApiServer() {
    checkStarted();
    if (notReadySince == null) {
      notReadySince = Instant.now();
    }
    if (apiServer != null) {
      apiServer.kill();
      log.info("API server killed");
    }
  }

  /** Starts the API server again on the same port and the same etcd data; returns when it is ready. */
  public synchronized void startApiServer() {
    checkStarted();
    if (apiServer != null && apiServer.isAlive()) {
      throw new IllegalStateException("the API server is running");
    }
    long t0 = System.nanoTime();
    startApiServerProcess();
    log.info("API server started again at {} in {} ms", url(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  /** {@link #stopApiServer()} then {@link #startApiServer()}. */
  public synchronized void restartApiServer() {
    stopApiServer();
    startApiServer();
  }

  public synchronized boolean isApiServerRunning() {
    return apiServer != null && apiServer.isAlive();
  }

  /** Stops everything, closes the shared client, deletes etcd's data (and the work folder unless kept). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RUNNING.remove(this);
    if (client != null) {
      client.close();
    }
    for (WatchedProcess p : new WatchedProcess[] {controllerManager, apiServer, etcd}) {
      if (p != null) {
        p.stop(cfg.stopTimeout);
      }
    }
    deleteRecursively(workDir.resolve("etcd"));
    if (ownsWorkDir && !cfg.keepWorkDir) {
      deleteRecursively(workDir);
    } else if (started) {
      log.info("Kubernetes test logs kept in {}", workDir);
    }
  }

  /**
   * The JVM is exiting: stop the processes without waiting for this object's lock (a thread may hold it while it
   * waits for a component to start).
   */
  private void stopFromShutdownHook() {
    for (WatchedProcess p : new WatchedProcess[] {controllerManager, apiServer, etcd}) {
      if (p != null) {
        try {
          p.stop(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
          // keep going: the other processes must stop too
        }
      }
    }
    deleteRecursively(workDir.resolve("etcd"));
    if (ownsWorkDir && !cfg.keepWorkDir) {
      deleteRecursively(workDir);
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      log.warn("error while stopping the Kubernetes test control plane", e);
    }
  }

  // ------------------------------------------------------------------------------------------------ access

  /** The shared admin client ({@code system:masters}); do not close it, {@link #close()} does. */
  public synchronized KubernetesClient client() {
    checkStarted();
    return client;
  }

  /** A new admin client; the caller closes it. */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(config()).build();
  }

  /** A new client authenticated as {@code user} in {@code groups} (RBAC applies); the caller closes it. */
  public KubernetesClient newClient(String user, String... groups) {
    return new KubernetesClientBuilder().withConfig(config(user, groups)).build();
  }

  /** A fresh fabric8 {@link Config} for the admin user. */
  public Config config() {
    return Config.fromKubeconfig(readString(adminKubeconfig()));
  }

  /** A fresh fabric8 {@link Config} for {@code user} in {@code groups}. */
  public Config config(String user, String... groups) {
    return Config.fromKubeconfig(kubeconfigYaml(pki.client(user, groups), user));
  }

  /**
   * A token of ServiceAccount {@code namespace/name}, obtained as the kubelet gets one for a Pod (TokenRequest), valid
   * for {@code lifetime}. The API server signs and checks such tokens with the key pair of this launcher's PKI (the
   * {@code --service-account-*} flags). With {@link #tokenConfig(String)}, a client with exactly the permissions RBAC
   * gives that account.
   */
  public String serviceAccountToken(String namespace, String name, Duration lifetime) {
    return client().serviceAccounts().inNamespace(namespace).withName(name).tokenRequest(
        new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
            .withExpirationSeconds(lifetime.toSeconds()).endSpec().build()).getStatus().getToken();
  }

  /** A fresh fabric8 {@link Config} that authenticates with a bearer token (e.g. a ServiceAccount's): RBAC applies. */
  public Config tokenConfig(String bearerToken) {
    return Config.fromKubeconfig(tokenKubeconfigYaml(bearerToken));
  }

  /** Writes a kubeconfig that authenticates with {@code bearerToken} into the work folder and returns its path. */
  public Path writeTokenKubeconfig(String name, String bearerToken) {
    Path f = workDir.resolve("kubeconfig-token-" + name.replaceAll("[^A-Za-z0-9._-]", "_") + ".yaml");
    KubePki.writeString(f, tokenKubeconfigYaml(bearerToken));
    return f;
  }

  /** The admin kubeconfig file (self-contained: certificates are embedded). */
  public Path kubeconfig() {
    return adminKubeconfig();
  }

  /** Writes a kubeconfig for {@code user} in {@code groups} into the work folder and returns its path. */
  public Path writeKubeconfig(String user, String... groups) {
    Path f = workDir.resolve("kubeconfig-" + user.replaceAll("[^A-Za-z0-9._-]", "_") + ".yaml");
    KubePki.writeString(f, kubeconfigYaml(pki.client(user, groups), user));
    return f;
  }

  /** {@code https://127.0.0.1:<port>}. */
  public String url() {
    return "https://127.0.0.1:" + apiPort;
  }

  public int port() {
    return apiPort;
  }

  /** The CA that signed the API server's certificate and every client certificate, PEM. */
  public Path caCertificate() {
    return caFile;
  }

  public KubeBinaries binaries() {
    return binaries;
  }

  public Path workDir() {
    return workDir;
  }

  public Path apiServerLog() {
    return workDir.resolve("logs/kube-apiserver.log");
  }

  public Path etcdLog() {
    return workDir.resolve("logs/etcd.log");
  }

  public Path controllerManagerLog() {
    return workDir.resolve("logs/kube-controller-manager.log");
  }

  public boolean hasControllerManager() {
    return cfg.controllerManager;
  }

  /**
   * Whether the API server was stopped, or started but not yet ready ({@code /readyz}), at {@code t} or up to
   * {@code grace} before. While it starts it already answers requests, but its authorizer's caches may not be synced:
   * it then denies (403) requests that RBAC allows, as any kube-apiserver does after a restart.
   */
  public boolean wasNotReadyAt(Instant t, Duration grace) {
    Instant since = notReadySince;
    if (since != null && !t.isBefore(since)) {
      return true;
    }
    for (Instant[] p : notReadyPeriods) {
      if (!t.isBefore(p[0]) && !t.isAfter(p[1].plus(grace))) {
        return true;
      }
    }
    return false;
  }

  /** The audit log reader, if the audit log was enabled with {@link Builder#auditLog(boolean)}. */
  public Optional<AuditLog> auditLog() {
    return Optional.ofNullable(audit);
  }

  /** The audit log reader; throws if the audit log was not enabled. */
  public AuditLog audit() {
    if (audit == null) {
      throw new IllegalStateException("the audit log is off; enable it with KubeApiServer.builder().auditLog(true)");
    }
    return audit;
  }

  /**
   * Runs the kubectl binary with the admin kubeconfig and returns its standard output.
   *
   * @throws IllegalStateException with kubectl's standard error if it exits non-zero
   */
  public String kubectl(String... args) {
    binaries.require(KubeBinaries.KUBECTL);
    List<String> cmd = new ArrayList<>();
    cmd.add(binaries.kubectl().toString());
    cmd.add("--kubeconfig=" + adminKubeconfig());
    cmd.addAll(List.of(args));
    try {
      Path err = Files.createTempFile(workDir, "kubectl", ".err");
      try {
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException("kubectl " + String.join(" ", args) + " timed out");
        }
        if (p.exitValue() != 0) {
          throw new IllegalStateException("kubectl " + String.join(" ", args) + " exited " + p.exitValue() + ": "
              + Files.readString(err));
        }
        return out;
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------------------------------------ CRDs

  /** Applies the CRDs in a YAML file (one or more documents) and waits until they are established. */
  public List<CustomResourceDefinition> installCrds(Path yaml) {
    try (InputStream in = Files.newInputStream(yaml)) {
      return installCrds(in, yaml.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + yaml, e);
    }
  }

  /**
   * Applies the CRDs in a classpath resource, e.g. {@code META-INF/fabric8/proxyclasses.tailscale.com-v1.yml} as
   * generated by the {@code api} module, and waits until they are established.
   */
  public List<CustomResourceDefinition> installCrdsFromClasspath(String resource) {
    String r = resource.startsWith("/") ? resource.substring(1) : resource;
    ClassLoader cl = Optional.ofNullable(Thread.currentThread().getContextClassLoader())
        .orElse(KubeApiServer.class.getClassLoader());
    try (InputStream in = cl.getResourceAsStream(r)) {
      if (in == null) {
        throw new IllegalArgumentException("no classpath resource " + r
            + " (the CRDs of the api module are generated into its jar by mvn -pl api install)");
      }
      return installCrds(in, "classpath:" + r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Applies the CRDs (server-side apply, forced) and waits up to the startup timeout until each is
   * {@code Established}. Objects in the stream that are not CRDs are rejected.
   */
  public List<CustomResourceDefinition> installCrds(InputStream yaml, String source) {
    KubernetesClient c = client();
    List<HasMetadata> items = c.load(yaml).items();
    List<CustomResourceDefinition> crds = new ArrayList<>();
    for (HasMetadata item : items) {
      if (!(item instanceof CustomResourceDefinition crd)) {
        throw new IllegalArgumentException(source + " contains a " + item.getKind() + " (" + item.getApiVersion()
            + "), not an apiextensions.k8s.io/v1 CustomResourceDefinition");
      }
      crds.add(c.resource(crd).forceConflicts().serverSideApply());
    }
    List<CustomResourceDefinition> out = new ArrayList<>();
    for (CustomResourceDefinition crd : crds) {
      String name = crd.getMetadata().getName();
      out.add(c.apiextensions().v1().customResourceDefinitions().withName(name).waitUntilCondition(
          d -> d != null && d.getStatus() != null && d.getStatus().getConditions() != null
              && d.getStatus().getConditions().stream()
                  .anyMatch(cond -> "Established".equals(cond.getType()) && "True".equals(cond.getStatus())),
          cfg.startupTimeout.toMillis(), TimeUnit.MILLISECONDS));
      log.debug("CRD {} established", name);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ internals

  private void prepareFiles() {
    try {
      Files.createDirectories(workDir.resolve("pki"));
      Files.createDirectories(workDir.resolve("logs"));
      Files.createDirectories(workDir.resolve("apiserver-cert-dir"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path pkiDir = workDir.resolve("pki");
    pki = KubePki.create();
    caFile = pkiDir.resolve("ca.crt");
    KubePki.writeString(caFile, pki.caPem());
    pki.server("kube-apiserver",
        List.of("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster", "kubernetes.default.svc.cluster.local"),
        List.of("127.0.0.1", "10.0.0.1")).write(pkiDir, "apiserver");
    pki.server("kube-controller-manager", List.of("localhost"), List.of("127.0.0.1"))
        .write(pkiDir, "controller-manager");
    admin = pki.client(ADMIN_USER, "system:masters").write(pkiDir, "admin");
    KeyPair sa = KubePki.rsa();
    KubePki.writeString(pkiDir.resolve("sa.key"), KubePki.privateKeyPem(sa.getPrivate()));
    KubePki.writeString(pkiDir.resolve("sa.pub"), KubePki.publicKeyPem(sa.getPublic()));
    http = HttpClient.newBuilder()
        .sslContext(admin.sslContext())
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
    if (cfg.auditLog) {
      KubePki.writeString(workDir.resolve("audit-policy.yaml"), """
          # Every request at Metadata level, one event per request (when it completes).
          apiVersion: audit.k8s.io/v1
          kind: Policy
          omitStages: ["RequestReceived", "ResponseStarted"]
          rules:
          - level: Metadata
          """);
      audit = new AuditLog(auditFile(), this::markerGet);
    }
  }

  private Path auditFile() {
    return workDir.resolve("logs/audit.log");
  }

  private void startEtcd() {
    etcdPort = freePort();
    etcdPeerPort = freePort();
    String client = "http://127.0.0.1:" + etcdPort;
    String peer = "http://127.0.0.1:" + etcdPeerPort;
    List<String> args = new ArrayList<>(List.of(
        "--name=default",
        "--data-dir=" + workDir.resolve("etcd"),
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=default=" + peer,
        "--initial-cluster-state=new",
        "--unsafe-no-fsync=true", // test data only; spares the shared disk
        "--quota-backend-bytes=" + (2L << 30),
        "--log-level=warn"));
    args.addAll(cfg.etcdFlags);
    etcd = launch("etcd", binaries.etcd(), args, etcdLog());
    waitFor("etcd /health", cfg.startupTimeout, etcd, () -> {
      HttpResponse<String> r = get(URI.create(client + "/health"));
      return r != null && r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
    });
  }

  private void startApiServerProcess() {
    Path pkiDir = workDir.resolve("pki");
    List<String> args = new ArrayList<>(List.of(
        "--etcd-servers=http://127.0.0.1:" + etcdPort,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        "--secure-port=" + apiPort,
        "--cert-dir=" + workDir.resolve("apiserver-cert-dir"),
        "--tls-cert-file=" + pkiDir.resolve("apiserver.crt"),
        "--tls-private-key-file=" + pkiDir.resolve("apiserver.key"),
        "--client-ca-file=" + caFile,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=" + pkiDir.resolve("sa.pub"),
        "--service-account-signing-key-file=" + pkiDir.resolve("sa.key"),
        "--service-cluster-ip-range=10.0.0.0/24",
        // no ServiceAccount admission: pods need no token and no default ServiceAccount (as in kube-api-test)
        "--disable-admission-plugins=ServiceAccount",
        "--allow-privileged=true",
        // 127.0.0.1 is not a valid Endpoints address; nothing runs in-cluster anyway
        "--endpoint-reconciler-type=none",
        "--profiling=false",
        // on SIGTERM, drain in-flight requests, then give open connections (watches) 2 s instead of --request-timeout
        // (60 s): stopApiServer() and close() take about a second
        "--shutdown-send-retry-after=true"));
    if (cfg.auditLog) {
      args.addAll(List.of(
          "--audit-policy-file=" + workDir.resolve("audit-policy.yaml"),
          "--audit-log-path=" + auditFile(),
          "--audit-log-format=json",
          "--audit-log-mode=blocking",
          "--audit-log-maxsize=0"));
    }
    args.addAll(cfg.apiServerFlags);
    if (notReadySince == null) {
      notReadySince = Instant.now();
    }
    apiServer = launch("kube-apiserver", binaries.kubeApiServer(), args, apiServerLog());
    waitFor("kube-apiserver /readyz", cfg.startupTimeout, apiServer, () -> {
      HttpResponse<String> r = get(URI.create(url() + "/readyz"));
      return r != null && r.statusCode() == 200;
    });
    notReadyPeriods.add(new Instant[] {notReadySince, Instant.now()});
    notReadySince = null;
  }

  private void startControllerManager() {
    kcmPort = freePort();
    Path pkiDir = workDir.resolve("pki");
    KubePki.Issued kcm = pki.client(CONTROLLER_MANAGER_USER, "system:masters");
    Path kubeconfig = workDir.resolve("controller-manager.kubeconfig");
    KubePki.writeString(kubeconfig, kubeconfigYaml(kcm, CONTROLLER_MANAGER_USER));
    List<String> args = new ArrayList<>(List.of(
        "--kubeconfig=" + kubeconfig,
        "--controllers=" + String.join(",", cfg.controllers),
        "--leader-elect=false",
        "--use-service-account-credentials=false",
        "--bind-address=127.0.0.1",
        "--secure-port=" + kcmPort,
        "--tls-cert-file=" + pkiDir.resolve("controller-manager.crt"),
        "--tls-private-key-file=" + pkiDir.resolve("controller-manager.key"),
        "--service-account-private-key-file=" + pkiDir.resolve("sa.key"),
        "--root-ca-file=" + caFile,
        "--kube-api-qps=100",
        "--kube-api-burst=200"));
    args.addAll(cfg.controllerManagerFlags);
    controllerManager = launch("kube-controller-manager", binaries.kubeControllerManager(), args,
        controllerManagerLog());
    waitFor("kube-controller-manager /healthz", cfg.startupTimeout, controllerManager, () -> {
      HttpResponse<String> r = get(URI.create("https://127.0.0.1:" + kcmPort + "/healthz"));
      return r != null && r.statusCode() == 200;
    });
  }

  private String kubeconfigYaml(KubePki.Issued user, String userName) {
    return kubeconfigYaml(userName, "client-certificate-data: " + KubePki.base64(user.certPem()) + "\n"
        + "    client-key-data: " + KubePki.base64(user.keyPem()));
  }

  private String tokenKubeconfigYaml(String token) {
    return kubeconfigYaml("token", "token: " + quote(token));
  }

  /** A kubeconfig for this server and one user, whose credentials are {@code credentials} (YAML, under "user:"). */
  private String kubeconfigYaml(String userName, String credentials) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: tsop-test
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: %s
          user:
            %s
        contexts:
        - name: tsop-test
          context:
            cluster: tsop-test
            user: %s
            namespace: default
        current-context: tsop-test
        """.formatted(url(), KubePki.base64(pki.caPem()), quote(userName), credentials, quote(userName));
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private synchronized Path adminKubeconfig() {
    checkStarted();
    if (adminKubeconfig == null) {
      adminKubeconfig = workDir.resolve("kubeconfig.yaml");
      KubePki.writeString(adminKubeconfig, kubeconfigYaml(admin, ADMIN_USER));
    }
    return adminKubeconfig;
  }

  private void markerGet(String pathAndQuery) {
    HttpResponse<String> r = get(URI.create(url() + pathAndQuery));
    if (r == null || r.statusCode() != 200) {
      throw new IllegalStateException("audit marker request " + pathAndQuery + " failed: "
          + (r == null ? "no connection" : r.statusCode() + " " + r.body()));
    }
  }

  /** GET with the admin certificate; null if the server cannot be reached. */
  private HttpResponse<String> get(URI uri) {
    try {
      return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
          .header("User-Agent", LAUNCHER_USER_AGENT).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void waitFor(String what, Duration timeout, WatchedProcess process, BooleanSupplier ready) {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(process.name() + " exited with code " + process.exitCode()
            + " while waiting for " + what + "; last lines of " + process.logFile() + ":\n" + process.logTail(40));
      }
      try {
        if (ready.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      sleep(100);
    }
    IllegalStateException e = new IllegalStateException("timed out after " + timeout + " waiting for " + what
        + "; last lines of " + process.logFile() + ":\n" + process.logTail(40));
    if (last != null) {
      e.addSuppressed(last);
    }
    throw e;
  }

  /** Starts {@code binary args} with this JVM's environment, its output appended to {@code logFile}. */
  private WatchedProcess launch(String name, Path binary, List<String> args, Path logFile) {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(args);
    return WatchedProcess.start(name, command, System.getenv(), workDir, logFile);
  }

  private static int freePort() {
    return LoopbackPorts.tcp();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private void checkStarted() {
    if (!started || closed) {
      throw new IllegalStateException(closed ? "closed" : "not started; call start()");
    }
  }

  private static String readString(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", dir, e.toString());
    }
  }

  @Override
  public String toString() {
    return "KubeApiServer[" + (started ? url() : "not started") + ", " + workDir + "]";
  }

  // ------------------------------------------------------------------------------------------------ builder

  /** Settings; {@link #start()} builds and starts. */
  public static final class Builder {
    private boolean controllerManager;
    private List<String> controllers = DEFAULT_CONTROLLERS;
    private boolean auditLog;
    private Path workDir;
    private boolean keepWorkDir = Boolean.parseBoolean(System.getenv("TSOP_KEEP_KUBE_DIR"));
    private KubeBinaries binaries;
    private final List<String> apiServerFlags = new ArrayList<>();
    private final List<String> controllerManagerFlags = new ArrayList<>();
    private final List<String> etcdFlags = new ArrayList<>();
    private final List<String> classpathCrds = new ArrayList<>();
    private final List<Path> crdFiles = new ArrayList<>();
    private Duration startupTimeout = Duration.ofSeconds(120);
    private Duration stopTimeout = Duration.ofSeconds(20);

    private Builder() {
    }

    /** Also run kube-controller-manager with {@link #DEFAULT_CONTROLLERS} (off by default). */
    public Builder controllerManager(boolean on) {
      this.controllerManager = on;
      return this;
    }

    /** The controllers to run (names as in {@code kube-controller-manager --controllers}); implies the manager. */
    public Builder controllers(String... names) {
      this.controllers = List.of(names);
      this.controllerManager = true;
      return this;
    }

    /** Write an audit log (Metadata level, every request) readable with {@link KubeApiServer#audit()}. */
    public Builder auditLog(boolean on) {
      this.auditLog = on;
      return this;
    }

    /**
     * Where logs, certificates, kubeconfigs and etcd's data go. Default: a new temporary folder, deleted on close.
     * A folder given here is kept (etcd's data is always deleted on close).
     */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /** Keep the temporary work folder (logs) on close; also with the environment variable TSOP_KEEP_KUBE_DIR=true. */
    public Builder keepWorkDir(boolean keep) {
      this.keepWorkDir = keep;
      return this;
    }

    public Builder binaries(KubeBinaries binaries) {
      this.binaries = Objects.requireNonNull(binaries);
      return this;
    }

    /** An extra kube-apiserver flag, e.g. {@code --feature-gates=Foo=true}; later flags win. */
    public Builder apiServerFlag(String flag) {
      this.apiServerFlags.add(checkFlag(flag));
      return this;
    }

    public Builder controllerManagerFlag(String flag) {
      this.controllerManagerFlags.add(checkFlag(flag));
      return this;
    }

    public Builder etcdFlag(String flag) {
      this.etcdFlags.add(checkFlag(flag));
      return this;
    }

    /** CRDs to install at start from classpath resources. */
    public Builder crdsFromClasspath(String... resources) {
      this.classpathCrds.addAll(List.of(resources));
      return this;
    }

    /** CRDs to install at start from YAML files. */
    public Builder crds(Path... files) {
      this.crdFiles.addAll(List.of(files));
      return this;
    }

    /** Per component and for CRDs to become established; default 120 s. */
    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /** How long a component may take to stop after SIGTERM before it is killed; default 20 s. */
    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = timeout;
      return this;
    }

    /** A server with these settings, not started. */
    public KubeApiServer build() {
      return new KubeApiServer(copy());
    }

    boolean hasWorkDir() {
      return workDir != null;
    }

    Builder copy() {
      Builder copy = new Builder();
      copy.controllerManager = controllerManager;
      copy.controllers = List.copyOf(controllers);
      copy.auditLog = auditLog;
      copy.workDir = workDir;
      copy.keepWorkDir = keepWorkDir;
      copy.binaries = binaries;
      copy.apiServerFlags.addAll(apiServerFlags);
      copy.controllerManagerFlags.addAll(controllerManagerFlags);
      copy.etcdFlags.addAll(etcdFlags);
      copy.classpathCrds.addAll(classpathCrds);
      copy.crdFiles.addAll(crdFiles);
      copy.startupTimeout = startupTimeout;
      copy.stopTimeout = stopTimeout;
      return copy;
    }

    /** {@code build().start()}. */
    public KubeApiServer start() {
      return build().start();
    }

    private static String checkFlag(String flag) {
      if (!flag.startsWith("--")) {
        throw new IllegalArgumentException("flags start with --: " + flag);
      }
      return flag;
    }
  }
}
