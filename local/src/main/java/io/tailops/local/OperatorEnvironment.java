package io.tailops.local;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.headscale.ApiKeySource;
import io.tailops.controlplane.headscale.HeadscaleControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.ingress.RedirectProbe;
import io.tailops.operator.runtime.CompletedReconciles;
import io.tailops.operator.runtime.ControlPlanes;
import io.tailops.operator.runtime.DeniedRequests;
import io.tailops.operator.runtime.OperatorMetrics;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.kube.AuditEvents;
import io.tailops.testkit.kube.AuditLog;
import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.podrunner.LocalPodRunner;
import io.tailops.testkit.podrunner.PodNetwork;
import io.tailops.testkit.podrunner.ServiceProxy;
import io.tailops.testkit.proxy.ProxySimulator;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The operator in-process with everything around it, shared by the integration tests, the local run command and the
 * benchmark. Everything an integration test needs: a real API server (with the controller manager, so foreground deletion and
 * StatefulSet pods work, and an audit log to count requests), a control plane, proxies, and the operator running
 * in-process against them with the settings a Helm install would give it. Two modes:
 *
 * <ul>
 *   <li>{@link Mode#SIMULATED} ({@link #create()}, the integration tests' default): the fake Tailscale API and the
 *       proxy simulator, which plays containerboot's part.</li>
 *   <li>{@link Mode#REAL} ({@link #create(Mode)}): a real tailnet on this machine. headscale (v0.29.2) is the control
 *       plane (the operator runs with {@code OPERATOR_CONTROL_PLANE=headscale}, {@code OPERATOR_LOGIN_SERVER},
 *       {@code HEADSCALE_API_KEY_FILE}); a {@link LocalPodRunner} runs every proxy Pod the StatefulSet controller
 *       creates with the real containerboot and tailscaled (kernel-mode Service proxies in their own network
 *       namespaces, when the machine allows it: see {@link PodNetwork#probe()}); a {@link ServiceProxy} makes Service
 *       cluster IPs reach local backends ({@link #backend}); and a {@link TailnetClient} (userspace tailscaled with an
 *       HTTP proxy) reaches what the proxies expose, by tailnet IP or MagicDNS name.</li>
 * </ul>
 *
 * <p>In both modes the permissions are the Helm chart's ({@link ChartRbac}): the operator runs with the token of the
 * chart's operator ServiceAccount, and proxy Pods run with the {@code proxies} account's. A request of either that the
 * API server denies fails the test (except while the API server restarts, when any API server denies requests until
 * its caches are synced): the operator records its own ({@link DeniedRequests}), the API server's audit log shows the
 * proxies' ({@link #deniedRequests()}), and {@link #close()} fails if there were any.
 */
public final class OperatorEnvironment implements AutoCloseable {
  public static final String NAMESPACE = "tailscale";
  /** The CRDs of every tailscale.com kind, as the api module generates them and the chart installs them. */
  static final String[] CRDS = io.tailops.api.v1alpha1.TailscaleResources.KINDS.stream()
      .map(k -> "META-INF/fabric8/" + io.fabric8.kubernetes.client.CustomResource.getCRDName(k) + "-v1.yml")
      .toArray(String[]::new);
  /** User agent of the operator's Kubernetes client, to tell its requests apart in the audit log. */
  public static final String OPERATOR_USER_AGENT = "tailscale-operator-it";
  /** Hostname of the tailnet client node in {@link Mode#REAL}. */
  public static final String CLIENT_HOSTNAME = "e2e-client";
  /**
   * The request timeout of the test-tuned control-plane client (production: 30 s; see
   * {@link #productionControlPlaneClient(boolean)}).
   */
  public static final Duration TUNED_CONTROL_PLANE_TIMEOUT = Duration.ofSeconds(5);
  /**
   * Denials while the API server was (re)starting are not the chart's fault (its authorizer's caches were not synced
   * yet, see {@link KubeApiServer#wasNotReadyAt}); this much after it was seen ready still counts as starting (the
   * answer of a request it denied before may arrive a moment after).
   */
  static final Duration RESTART_GRACE = Duration.ofSeconds(2);
  /** How long {@link #awaitReconciled} waits. */
  static final Duration RECONCILE_TIMEOUT = Duration.ofSeconds(60);

  /** Which control plane and proxies the environment runs. */
  public enum Mode {
    /** Fake Tailscale API and proxy simulator. */
    SIMULATED,
    /** headscale, real containerboot/tailscaled proxies run by the local pod runner, a tailnet client. */
    REAL
  }

  private final Mode mode;
  private final KubeApiServer kube;
  private final FakeTailscaleApi tailnet;
  private final ProxySimulator proxies;
  /** Plays tsrecorder for Recorders (simulated mode; null otherwise). */
  private io.tailops.testkit.proxy.RecorderSimulator recorders;
  private final Path dir;
  private PodNetwork network;
  private HeadscaleServer headscale;
  private LocalPodRunner pods;
  private TailnetClient tailnetClient;
  private final List<HttpServer> backends = new ArrayList<>();
  private final Path clientIdFile;
  private final Path clientSecretFile;
  private final Map<String, String> env = new HashMap<>();
  private OAuthClient oauthClient;
  private OperatorRuntime operator;
  private KubernetesClient operatorClient;
  private ChartRbac rbac;
  /** Every client built with the operator's credentials, each with its record of denied requests. */
  private final List<DeniedRequests> operatorDenials = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Map<DeniedRequests, Long> deniedReported = new java.util.concurrent.ConcurrentHashMap<>();
  private AuditLog.Mark deniedAuditMark;
  private static final java.util.Set<OperatorEnvironment> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** ServiceAccounts of this namespace whose refusals a test provokes on purpose (and asserts itself). */
  private final java.util.Set<String> deniedOnPurpose = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private UnaryOperator<URI> probeRewriter = UnaryOperator.identity();
  private UnaryOperator<ControlPlane> controlPlaneWrapper = UnaryOperator.identity();
  private boolean productionControlPlaneClient;

  private OperatorEnvironment(Mode mode, KubeApiServer kube, FakeTailscaleApi tailnet, ProxySimulator proxies,
      Path dir) {
    this.mode = mode;
    this.kube = kube;
    this.tailnet = tailnet;
    this.proxies = proxies;
    this.dir = dir;
    this.clientIdFile = dir.resolve("client_id");
    this.clientSecretFile = dir.resolve("client_secret");
  }

  /** Starts the API server, the fake tailnet and the proxy simulator (the operator is started separately). */
  public static OperatorEnvironment create() {
    try {
      Path dir = Files.createTempDirectory("tsop-it-");
      KubeApiServer kube = KubeApiServer.builder().controllerManager(true).auditLog(true)
          .crdsFromClasspath(CRDS).start();
      KubernetesClient client = kube.client();
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      client.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
          .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
          .build()).create();
      ChartRbac rbac = ChartRbac.render(client, NAMESPACE).apply(client);
      FakeTailscaleApi tailnet = FakeTailscaleApi.start();
      // The simulator plays the kubelet as well as containerboot (it watches StatefulSets and Pods): admin client.
      ProxySimulator proxies = ProxySimulator.start(client, NAMESPACE, tailnet, kube.hasControllerManager());
      OperatorEnvironment env = new OperatorEnvironment(Mode.SIMULATED, kube, tailnet, proxies, dir);
      env.rbac = rbac;
      env.opened();
      env.recorders = io.tailops.testkit.proxy.RecorderSimulator.start(client, NAMESPACE, tailnet);
      env.oauthClient = tailnet.addOperatorClient();
      env.writeCredentials(env.oauthClient.id(), env.oauthClient.secret());
      env.env.put("OPERATOR_NAMESPACE", NAMESPACE);
      env.env.put("CLIENT_ID_FILE", env.clientIdFile.toString());
      env.env.put("CLIENT_SECRET_FILE", env.clientSecretFile.toString());
      env.env.put("OPERATOR_LOGIN_SERVER", tailnet.baseUrl());
      env.env.put("PROXY_IMAGE", "tailscale/tailscale:v1.94.2");
      env.env.put("PROXY_FIREWALL_MODE", "auto");
      env.env.put("OPERATOR_LEADER_ELECTION", "false");
      env.env.put("OPERATOR_LOGGING", "debug");
      env.env.put("OPERATOR_LOG_FORMAT", "plain");
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the environment in the given mode (the operator is started separately). {@link Mode#REAL} needs the
   * tailscale and headscale binaries ({@link TailnetBinaries#BUILD_COMMAND}) and, for kernel-mode Service proxies and
   * cluster IPs, root (see {@link PodNetwork#probe()}); it throws an {@link IllegalStateException} naming what is
   * missing.
   */
  public static OperatorEnvironment create(Mode mode) {
    return mode == Mode.SIMULATED ? create() : createReal(null);
  }

  /**
   * A {@link Mode#REAL} environment whose tailnet names devices under {@code baseDomain} (headscale's
   * {@code dns.base_domain}), e.g. a {@code <tailnet>.ts.net} domain, which the ts.net nameserver of a DNSConfig serves
   * (it answers no other domain).
   */
  public static OperatorEnvironment createReal(String baseDomain) {
    TailnetBinaries binaries = TailnetBinaries.locate();
    binaries.requireTailscale().requireHeadscale().requireK8sNameserver();
    List<AutoCloseable> started = new ArrayList<>();
    try {
      PodNetwork network = null;
      if (PodNetwork.probe().bridge()) {
        network = PodNetwork.create();
        started.add(network);
      }
      KubeApiServer.Builder kb = KubeApiServer.builder().controllerManager(true).auditLog(true)
          .crdsFromClasspath(CRDS);
      if (network != null) {
        // this run's own Service range, served on the pod network's bridge (no clash with another run)
        kb.apiServerFlag("--service-cluster-ip-range=" + network.serviceCidr());
      }
      KubeApiServer kube = kb.start();
      started.add(kube);
      HeadscaleServer.Builder hb = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY)
          .listenAddress(network != null ? network.hostAddress() : "127.0.0.1").binaries(binaries);
      if (baseDomain != null) {
        hb.baseDomain(baseDomain);
      }
      HeadscaleServer headscale = hb.start();
      started.add(headscale);
      KubernetesClient client = kube.client();
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      client.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
          .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
          .build()).create();
      ChartRbac rbac = ChartRbac.render(client, NAMESPACE).apply(client);
      LocalPodRunner.Builder pb = LocalPodRunner.builder(kube).namespace(NAMESPACE).network(network)
          .binaries(binaries);
      if (network != null) {
        // the proxies run containerboot; a DNSConfig's nameserver Pods (label app=nameserver) run the k8s-nameserver
        pb.program("app", "nameserver", "nameserver", binaries.k8sNameserver());
      }
      LocalPodRunner pods = pb.start();
      started.add(pods);
      TailnetClient tailnetClient = TailnetClient.builder(headscale).hostname(CLIENT_HOSTNAME).tags("tag:e2e-client")
          .startupTimeout(Duration.ofSeconds(120)).start();
      started.add(tailnetClient);
      Path dir = Files.createTempDirectory("tsop-e2e-");
      OperatorEnvironment env = new OperatorEnvironment(Mode.REAL, kube, null, null, dir);
      env.rbac = rbac;
      env.opened();
      env.network = network;
      env.headscale = headscale;
      env.pods = pods;
      env.tailnetClient = tailnetClient;
      env.env.put("OPERATOR_NAMESPACE", NAMESPACE);
      env.env.put("OPERATOR_CONTROL_PLANE", "headscale");
      env.env.put("OPERATOR_LOGIN_SERVER", headscale.baseUrl());
      if (network != null) {
        // headscale serves plain HTTP on this run's private pod-network bridge (not loopback): allowed explicitly.
        env.env.put("OPERATOR_LOGIN_SERVER_ALLOW_HTTP", "true");
      }
      env.env.put("HEADSCALE_API_KEY_FILE", headscale.apiKeyFile().toString());
      env.env.put("HEADSCALE_BASE_DOMAIN", headscale.baseDomain());
      env.env.put("PROXY_IMAGE", "tailscale/tailscale:v" + binaries.tailscaleVersion());
      env.env.put("PROXY_FIREWALL_MODE", "auto");
      env.env.put("OPERATOR_LEADER_ELECTION", "false");
      env.env.put("OPERATOR_LOGGING", "debug");
      env.env.put("OPERATOR_LOG_FORMAT", "plain");
      return env;
    } catch (IOException e) {
      closeAll(started);
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      closeAll(started);
      throw e;
    }
  }

  private static void closeAll(List<AutoCloseable> started) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        // keep closing
      }
    }
  }

  public Mode mode() {
    return mode;
  }

  public boolean isReal() {
    return mode == Mode.REAL;
  }

  /** Sets an operator environment variable (takes effect at the next operator start). */
  public OperatorEnvironment env(String name, String value) {
    if (value == null) {
      env.remove(name);
    } else {
      env.put(name, value);
    }
    return this;
  }

  /** Wraps the control plane the next {@link #startOperator()} gives the operator (to take a feature away). */
  public OperatorEnvironment controlPlaneWrapper(UnaryOperator<ControlPlane> wrapper) {
    this.controlPlaneWrapper = wrapper;
    return this;
  }

  /**
   * Whether the operator's control-plane client is built exactly as in production ({@link ControlPlanes#create}, as
   * {@code Main} does: its request timeout, retry attempts and delays) instead of the test-tuned one (the default:
   * 20–200 ms retry delays and a {@link #TUNED_CONTROL_PLANE_TIMEOUT} timeout, for speed). Takes effect at the next
   * operator start.
   */
  public OperatorEnvironment productionControlPlaneClient(boolean on) {
    this.productionControlPlaneClient = on;
    return this;
  }

  /** Maps backend URLs before the operator probes them (cluster IPs do not route here). */
  public OperatorEnvironment redirectProbeRewriter(UnaryOperator<URI> rewriter) {
    this.probeRewriter = rewriter;
    return this;
  }

  public void writeCredentials(String id, String secret) {
    try {
      Files.writeString(clientIdFile, id);
      Files.writeString(clientSecretFile, secret);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public OAuthClient oauthClient() {
    return oauthClient;
  }

  public OperatorConfig config() {
    return OperatorConfig.fromEnv(env);
  }

  /** Starts the operator in-process with its own Kubernetes client. */
  public OperatorRuntime startOperator() {
    if (operator != null) {
      throw new IllegalStateException("the operator is already running");
    }
    OperatorConfig config = config();
    applyChartRbacFor(env);
    OperatorMetrics metrics = new OperatorMetrics();
    operatorClient = newOperatorClient(OPERATOR_USER_AGENT, metrics);
    ControlPlane cp;
    if (productionControlPlaneClient) {
      cp = ControlPlanes.create(config, metrics);
    } else if (mode == Mode.REAL) {
      cp = HeadscaleControlPlane.builder(headscale.baseUrl(), ApiKeySource.fromFile(headscale.apiKeyFile()))
          .baseDomain(headscale.baseDomain())
          .retryPolicy(RetryPolicy.defaults().withBaseDelay(Duration.ofMillis(50)).withMaxDelay(Duration.ofSeconds(1)))
          .requestTimeout(Duration.ofSeconds(10))
          .listener(metrics::controlPlaneCall)
          .build();
    } else {
      cp = TailscaleApiClient.builder(CredentialSource.fromFiles(clientIdFile, clientSecretFile))
          .loginServer(tailnet.baseUrl())
          .retryPolicy(RetryPolicy.defaults().withBaseDelay(Duration.ofMillis(20)).withMaxDelay(Duration.ofMillis(200)))
          .requestTimeout(TUNED_CONTROL_PLANE_TIMEOUT)
          .listener(metrics::controlPlaneCall)
          .build();
    }
    cp = controlPlaneWrapper.apply(cp);
    try {
      operator = OperatorRuntime.start(config, operatorClient, cp, Clock.systemUTC(), 0,
          new RedirectProbe(Duration.ofSeconds(2), probeRewriter), metrics);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return operator;
  }

  /**
   * Renders the chart's RBAC with the values the operator's settings come from (the chart's Deployment turns
   * {@code apiServerProxyConfig.mode} into {@code APISERVER_PROXY}, and renders the impersonation grant for it) and
   * puts it on the API server in place of the previous rendering, as {@code helm upgrade} would.
   */
  private void applyChartRbacFor(Map<String, String> settings) {
    Map<String, String> values = new java.util.TreeMap<>();
    String apiServerProxy = settings.get("APISERVER_PROXY");
    if (apiServerProxy != null && !apiServerProxy.isBlank()) {
      values.put("apiServerProxyConfig.mode", apiServerProxy.trim());
    }
    if (!values.equals(rbac.values())) {
      rbac = ChartRbac.render(kube.client(), NAMESPACE, values).replace(rbac, kube.client());
    }
  }

  /**
   * A new Kubernetes client with the operator's credentials, as a Helm install gives them: the token of the chart's
   * operator ServiceAccount (so exactly the chart's RBAC applies), requests it denies recorded for
   * {@link #deniedRequests()}. The caller closes it.
   */
  public KubernetesClient newOperatorClient(String userAgent, OperatorMetrics metrics) {
    Config kc = kube.tokenConfig(kube.serviceAccountToken(NAMESPACE, rbac.operatorServiceAccount(),
        Duration.ofHours(24)));
    kc.setUserAgent(userAgent);
    DeniedRequests denied = new DeniedRequests(metrics);
    operatorDenials.add(denied);
    // The operator's bounded pools, as Main builds its client: the tests run the operator on them.
    return denied.installOn(io.tailops.operator.threads.OperatorThreads.bounded(new KubernetesClientBuilder(),
        io.tailops.operator.config.ThreadSettings.DEFAULTS).withConfig(kc)).build();
  }

  /**
   * Writes a kubeconfig with the operator's credentials (a new token of the chart's operator ServiceAccount) for an
   * operator in another process, and returns its path.
   */
  public Path writeOperatorKubeconfig() {
    return kube.writeTokenKubeconfig("operator", kube.serviceAccountToken(NAMESPACE, rbac.operatorServiceAccount(),
        Duration.ofHours(24)));
  }

  /** The running operator's Kubernetes client (its ServiceAccount's credentials); null while it is stopped. */
  public KubernetesClient operatorClient() {
    return operatorClient;
  }

  /** The chart's RBAC objects applied to the API server. */
  public ChartRbac rbac() {
    return rbac;
  }

  /**
   * Requests denied (403) since the last call: the operator's (every client of {@link #newOperatorClient}) and those
   * of any ServiceAccount of the operator namespace (proxies included) in the API server's audit log. Empty when the
   * chart grants everything that ran.
   */
  public synchronized List<String> deniedRequests() {
    List<String> out = new ArrayList<>();
    for (DeniedRequests d : operatorDenials) {
      long seen = deniedReported.getOrDefault(d, 0L);
      long total = d.total();
      if (total > seen) {
        List<DeniedRequests.Denial> recent = d.recent();
        recent.subList(Math.max(0, recent.size() - (int) Math.min(total - seen, recent.size())), recent.size())
            .stream().filter(x -> !kube.wasNotReadyAt(x.at(), RESTART_GRACE))
            .forEach(x -> out.add("operator: " + x.request()));
        deniedReported.put(d, total);
      }
    }
    AuditLog.Mark now = kube.audit().mark();
    AuditEvents all = deniedAuditMark == null ? kube.audit().all() : kube.audit().since(deniedAuditMark);
    deniedAuditMark = now;
    String accounts = "system:serviceaccount:" + NAMESPACE + ":";
    // A request the operator made as somebody else (the API server proxy impersonating a tailnet caller) is decided
    // by that caller's RBAC: its refusal is the caller's, not a grant the chart lacks.
    all.filter(e -> e.code() == 403 && e.username() != null && e.username().startsWith(accounts))
        .filter(e -> e.impersonatedUser() == null)
        .filter(e -> !deniedOnPurpose.contains(e.username().substring(accounts.length())))
        .filter(e -> e.requestReceived() == null || !kube.wasNotReadyAt(e.requestReceived(), RESTART_GRACE))
        .stream().forEach(e -> out.add("API server denied " + e.username().substring(accounts.length()) + ": " + e));
    return out;
  }

  /**
   * Refusals of ServiceAccount {@code account} (of this namespace) are provoked on purpose from now on: the test
   * asserts them itself (a proxy's credentials probing what they must not reach), so they do not count as grants the
   * chart lacks.
   */
  public void denyOnPurpose(String account) {
    deniedOnPurpose.add(account);
  }

  /**
   * Fails (AssertionError) if a request was denied since the last check, in any environment that is open: the check
   * the integration tests run after each test, so that a permission the chart lacks fails the test that needed it.
   */
  public static void assertNoDeniedRequests() {
    List<String> denied = new ArrayList<>();
    for (OperatorEnvironment e : OPEN) {
      denied.addAll(e.deniedRequests());
    }
    if (!denied.isEmpty()) {
      throw new AssertionError("requests denied by the chart's RBAC (the operator and its proxies must work with "
          + "exactly the chart's grants; fix chart/tailscale-operator/templates/*-rbac.yaml or the caller):\n  "
          + String.join("\n  ", denied));
    }
  }

  private void opened() {
    OPEN.add(this);
  }

  /** Stops the operator (as a pod being replaced would). */
  public void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
    if (operatorClient != null) {
      operatorClient.close();
      operatorClient = null;
    }
  }

  /** Kills the operator abruptly: its HTTP connections are cut and its reconciles die mid-flight. */
  public void killOperator() {
    if (operatorClient != null) {
      operatorClient.close();
    }
    stopOperator();
  }

  public OperatorRuntime operator() {
    return operator;
  }

  public KubernetesClient client() {
    return kube.client();
  }

  public KubeApiServer kube() {
    return kube;
  }

  /** The fake Tailscale API ({@link Mode#SIMULATED}; null in {@link Mode#REAL}). */
  public FakeTailscaleApi tailnet() {
    return tailnet;
  }

  /** The proxy simulator ({@link Mode#SIMULATED}; null in {@link Mode#REAL}). */
  /** tsrecorder as the fake control plane sees it (null in {@link Mode#REAL}). */
  public io.tailops.testkit.proxy.RecorderSimulator recorders() {
    return recorders;
  }

  public ProxySimulator proxies() {
    return proxies;
  }

  /** headscale ({@link Mode#REAL}; null otherwise). */
  public HeadscaleServer headscale() {
    return headscale;
  }

  /** The local pod runner that runs the proxies ({@link Mode#REAL}; null otherwise). */
  public LocalPodRunner pods() {
    return pods;
  }

  /** The tailnet client node {@value #CLIENT_HOSTNAME} with its HTTP proxy ({@link Mode#REAL}; null otherwise). */
  public TailnetClient tailnetClient() {
    return tailnetClient;
  }

  /** The pod network ({@link Mode#REAL} as root; null otherwise: then only userspace pods run). */
  public PodNetwork network() {
    return network;
  }

  /** The cluster-IP emulation ({@link Mode#REAL} with a pod network; null otherwise). */
  public ServiceProxy services() {
    return pods == null ? null : pods.services();
  }

  /**
   * A local HTTP backend for port {@code port} of Service {@code namespace/name} ({@link Mode#REAL}): an HTTP server
   * on 127.0.0.1 answering every request with {@code 200 <body prefix> <path>} (body prefix e.g. the Service's
   * name), reached through the Service's cluster IP. Closed with the environment.
   */
  public HttpServer backend(String namespace, String name, int port, String bodyPrefix) {
    return backend(namespace, name, port, exchange -> {
      byte[] body = (bodyPrefix + " " + exchange.getRequestURI().getPath() + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
  }

  /** As {@link #backend(String, String, int, String)} with a handler of the caller's. */
  public HttpServer backend(String namespace, String name, int port, HttpHandler handler) {
    ServiceProxy svc = services();
    if (svc == null) {
      throw new IllegalStateException("no cluster-IP emulation: " + (mode == Mode.REAL ? "no pod network here ("
          + PodNetwork.probe().reason() + ")" : "the environment is simulated"));
    }
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", exchange -> {
        try (HttpExchange x = exchange) {
          handler.handle(x);
        }
      });
      server.start();
      synchronized (backends) {
        backends.add(server);
      }
      svc.backend(namespace, name, port, server.getAddress());
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dir() {
    return dir;
  }

  public void createNamespace(String name) {
    if (client().namespaces().withName(name).get() == null) {
      client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
  }

  /** Creates a plain ClusterIP Service to use as an Ingress backend. */
  public io.fabric8.kubernetes.api.model.Service backendService(String ns, String name, int port) {
    return client().resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withNamespace(ns)
        .withName(name).endMetadata().withNewSpec().addToSelector("app", name).addNewPort().withPort(port).endPort()
        .endSpec().build()).create();
  }

  /** The proxy StatefulSets of a parent, found by the child labels. */
  public List<StatefulSet> statefulSets(String type, String namespace, String name) {
    return client().apps().statefulSets().inNamespace(NAMESPACE).withLabel("tailscale.com/parent-resource-type", type)
        .withLabel("tailscale.com/parent-resource-ns", namespace).withLabel("tailscale.com/parent-resource", name)
        .list().getItems();
  }

  public List<Secret> secrets(String type, String namespace, String name) {
    return client().secrets().inNamespace(NAMESPACE).withLabel("tailscale.com/parent-resource-type", type)
        .withLabel("tailscale.com/parent-resource-ns", namespace).withLabel("tailscale.com/parent-resource", name)
        .list().getItems();
  }

  /** Waits for the single proxy StatefulSet of a parent and returns its name. */
  public String awaitProxy(String type, String namespace, String name) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (statefulSets(type, namespace, name).size() != 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no proxy StatefulSet for " + type + " " + namespace + "/" + name);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return statefulSets(type, namespace, name).get(0).getMetadata().getName();
  }

  /**
   * Waits until every controller of the running operator that receives each object (its kind, namespace and labels:
   * a Service has up to four) has completed a reconcile of it that saw the object's version (pass the object as the
   * API server returned it from the change: create, edit, patch) or a newer one. After that, whatever the operator
   * does about the change is done, so a check that nothing happened means something; a sleep before such a
   * check only means the operator was not slower than the sleep.
   *
   * @throws IllegalStateException if that takes more than a minute
   */
  public void awaitReconciled(HasMetadata... objects) {
    if (operator == null) {
      throw new IllegalStateException("the operator is not running");
    }
    for (HasMetadata o : objects) {
      String ns = o.getMetadata().getNamespace();
      String name = o.getMetadata().getName();
      long version = CompletedReconciles.version(o.getMetadata().getResourceVersion());
      if (version < 0) {
        throw new IllegalArgumentException("no resourceVersion on " + o.getKind() + " " + ns + "/" + name
            + ": pass the object the API server returned");
      }
      Optional<String> behind;
      try {
        behind = operator.reconciles().await(o, RECONCILE_TIMEOUT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (behind.isPresent()) {
        throw new IllegalStateException("the operator did not reconcile " + o.getKind() + " "
            + (ns == null ? "" : ns + "/") + name + " at version " + version + " or later within " + RECONCILE_TIMEOUT
            + ": " + behind.get());
      }
    }
  }

  /** {@link #awaitReconciled} for the objects as they are on the API server now. */
  public void awaitCurrentVersionsReconciled(HasMetadata... objects) {
    for (HasMetadata o : objects) {
      HasMetadata now = client().resource(o).get();
      if (now == null) {
        throw new IllegalStateException(o.getKind() + " " + o.getMetadata().getNamespace() + "/"
            + o.getMetadata().getName() + " does not exist");
      }
      awaitReconciled(now);
    }
  }

  /** The decoded {@code cap-107.hujson} of a proxy's config Secret. */
  public String tailscaledConfig(String statefulSet) {
    var secret = client().secrets().inNamespace(NAMESPACE).withName(statefulSet + "-0").get();
    return new String(java.util.Base64.getDecoder().decode(secret.getData().get("cap-107.hujson")),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Events recorded on an object. */
  public List<Event> events(HasMetadata obj) {
    String ns = obj.getMetadata().getNamespace() == null ? "default" : obj.getMetadata().getNamespace();
    return client().v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> obj.getMetadata().getName().equals(e.getInvolvedObject().getName())
            && obj.getKind().equals(e.getInvolvedObject().getKind()))
        .toList();
  }

  public Optional<Event> event(HasMetadata obj, String reason) {
    return events(obj).stream().filter(e -> reason.equals(e.getReason())).findFirst();
  }

  /** A mark in the audit log; {@link #operatorRequestsSince} counts what the operator did after it. */
  public AuditLog.Mark mark() {
    return kube.audit().mark();
  }

  public AuditEvents operatorRequestsSince(AuditLog.Mark mark) {
    return kube.audit().since(mark).byUserAgent(OPERATOR_USER_AGENT);
  }

  /** Stops everything; fails (AssertionError) afterwards if a request was denied since the last check. */
  @Override
  public void close() {
    stopOperator();
    List<String> denied;
    try {
      denied = deniedRequests();
    } catch (RuntimeException e) {
      denied = List.of("(could not read the audit log: " + e + ")");
    }
    OPEN.remove(this);
    closeEverything();
    if (!denied.isEmpty()) {
      throw new AssertionError("requests denied by the chart's RBAC:\n  " + String.join("\n  ", denied));
    }
  }

  private void closeEverything() {
    if (mode == Mode.REAL) {
      List<AutoCloseable> all = new ArrayList<>();
      all.add(network);
      all.add(kube);
      all.add(headscale);
      synchronized (backends) {
        backends.forEach(b -> all.add(() -> b.stop(0)));
        backends.clear();
      }
      all.add(tailnetClient);
      all.add(pods);
      all.removeIf(java.util.Objects::isNull);
      closeAll(all); // in reverse: pods, client, backends, headscale, API server, network
      deleteDir();
      return;
    }
    proxies.close();
    if (recorders != null) {
      recorders.close();
    }
    tailnet.close();
    kube.close();
    deleteDir();
  }

  /** The temporary folder (the OAuth client files in simulated mode). */
  private void deleteDir() {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort
    }
  }
}
