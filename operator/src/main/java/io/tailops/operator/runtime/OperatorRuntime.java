package io.tailops.operator.runtime;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.AggregatedMetrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.apiproxy.OperatorApiServerProxy;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.ingress.IngressController;
import io.tailops.operator.ingress.RedirectProbe;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClassUsers;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.proxyclass.ProxyClassReconciler;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.RetryKicks;
import io.tailops.operator.reconcile.TailnetDevices;
import io.tailops.operator.service.ClusterDomain;
import io.tailops.operator.dns.DnsRecordsReconciler;
import io.tailops.operator.dns.NameserverReconciler;
import io.tailops.operator.service.ServiceController;
import io.tailops.operator.service.ServiceKind;
import io.tailops.operator.status.EventRecorder;
import io.tailops.operator.threads.OperatorThreads;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running operator: JOSDK controllers for Services (and later Ingresses and ProxyClasses), the HTTP endpoints,
 * leader election. Used by {@code main} and, in-process, by the integration tests and the local environment.
 */
public final class OperatorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorRuntime.class);
  /** Set when the process is shutting down (SIGTERM), so that losing leadership then does not call System.exit. */
  public static final java.util.concurrent.atomic.AtomicBoolean SHUTTING_DOWN =
      new java.util.concurrent.atomic.AtomicBoolean();

  private final OperatorContext ctx;
  private final OperatorHealth health;
  private final OperatorMetrics metrics;
  private final Operator operator;
  private final HttpEndpoints http;
  private final HttpEndpoints admin;
  private final ObservedControlPlane controlPlane;
  private DoctorResults doctorResults;
  private final CompletedReconciles reconciles;
  private CredentialWatcher credentialWatcher;
  private DeviceSweeper sweeper;
  private OperatorDevice device;
  private OperatorStatusPublisher statusPublisher;
  private OperatorApiServerProxy apiServerProxy;
  private ParentlessSweep parentless;
  private java.util.concurrent.ScheduledExecutorService leaseWatch;
  private java.util.concurrent.ScheduledExecutorService timer;
  private OperatorThreads.SharedTimer josdkTimer;
  private static final java.util.concurrent.atomic.AtomicBoolean LOST = new java.util.concurrent.atomic.AtomicBoolean();

  private OperatorRuntime(OperatorContext ctx, OperatorHealth health, OperatorMetrics metrics, Operator operator,
      HttpEndpoints http, HttpEndpoints admin, ObservedControlPlane controlPlane, CompletedReconciles reconciles) {
    this.ctx = ctx;
    this.health = health;
    this.metrics = metrics;
    this.operator = operator;
    this.http = http;
    this.admin = admin;
    this.controlPlane = controlPlane;
    this.reconciles = reconciles;
  }

  /**
   * Builds and starts the operator.
   *
   * @param httpPort port of the health/metrics endpoints; 0 picks free ports for them and for the loopback admin port
   *     (status page, doctor), -1 disables both
   */
  public static OperatorRuntime start(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
      Clock clock, int httpPort) throws IOException {
    return start(config, client, controlPlane, clock, httpPort, RedirectProbe.standard(), new OperatorMetrics());
  }

  /** As {@link #start(OperatorConfig, KubernetesClient, ControlPlane, Clock, int)} with a custom redirect probe. */
  public static OperatorRuntime start(OperatorConfig given, KubernetesClient client, ControlPlane controlPlane,
      Clock clock, int httpPort, RedirectProbe redirectProbe, OperatorMetrics metrics) throws IOException {
    OperatorConfig config = withKeyMark(given, client);
    OperatorHealth health = new OperatorHealth(clock);
    ObservedControlPlane observed = new ObservedControlPlane(controlPlane, health, new MissingScopes(clock));
    String identity = config.podName().isEmpty() ? "tailscale-operator-" + UUID.randomUUID().toString()
        .substring(0, 8) : config.podName();
    // One thread for the periodic and delayed work of the sweeps, the status ConfigMap, the device registry's batched
    // writes and the credential check (docs/design.md "Threads"); the Lease guard keeps threads of its own.
    java.util.concurrent.ScheduledExecutorService timer = OperatorThreads.scheduler("operator-timer");
    io.tailops.operator.proxy.DeviceRegistry devices = io.tailops.operator.proxy.DeviceRegistry.batched(
        new io.tailops.operator.proxy.ConfigMapDeviceStore(client, config.namespace()), timer);
    devices.load();
    OperatorContext ctx = new OperatorContext(config, client, observed, new EventRecorder(client, clock, identity),
        clock, new HostnameClaims(), new ProxyClassUsers(), metrics, health, new RetryKicks(), devices,
        new io.tailops.operator.status.ServedParents());
    HttpEndpoints http = null;
    HttpEndpoints admin = null;
    if (httpPort >= 0) {
      // Cluster-facing: probes and metrics only, each cheap and free of control-plane calls, answered from memory on
      // the server's dispatcher thread (no handler pool: 2 threads fewer for the kubelet's and Prometheus' requests).
      http = new HttpEndpoints("0.0.0.0", httpPort, "probes-and-metrics", 0);
      // Loopback only: the status page and doctor (kubectl port-forward, and the device's serve config).
      admin = new HttpEndpoints("127.0.0.1", httpPort == 0 ? 0 : config.security().adminPort(), "admin");
    }
    CompletedReconciles reconciles = new CompletedReconciles();
    LeaseGuard leaseGuard = new LeaseGuard(identity, LeaseGuard.RENEW_DEADLINE, Clock.systemUTC());
    Operator operator = new Operator(o -> {
      o.withKubernetesClient(client)
          .withCloseClientOnStop(false)
          .withConcurrentReconciliationThreads(config.threads().reconcile())
          .withExecutorService(OperatorThreads.bounded("reconciler", config.threads().reconcile()))
          .withUseSSAToPatchPrimaryResource(false)
          .withSSABasedCreateUpdateMatchForDependentResources(false)
          .withStopOnInformerErrorDuringStartup(false)
          .withCacheSyncTimeout(Duration.ofMinutes(2))
          .withReconciliationTerminationTimeout(Duration.ofSeconds(10))
          .withMetrics(new AggregatedMetrics(java.util.List.of(MicrometerMetrics.newMicrometerMetricsBuilder(
              metrics.registry()).notCollectingMetricsPerResource().build(), reconciles)));
      if (config.leaderElection()) {
        o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(config.leaseName(), config.namespace(),
            LeaseGuard.LEASE_DURATION, LeaseGuard.RENEW_DEADLINE, LeaseGuard.RETRY_PERIOD, identity,
            new io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks(
                () -> {
                  LOG.info("leading as {}", identity);
                  leaseGuard.startedLeading();
                  health.leader(true);
                },
                () -> lostLeadership(health, leaseGuard, "the leader election stopped leading"),
                leader -> LOG.info("current leader: {}", leader)),
            false));
      }
    });
    OperatorThreads.boundFanOut(operator);
    // The proxy kinds: one line each.
    TailnetDevices tailnetDevices = new TailnetDevices(config.deviceSweepInterval());
    ServiceController services = new ServiceController(ctx, tailnetDevices, clusterDomain(config.namespace()));
    ParentlessSweep parentless = new ParentlessSweep(health).on(timer);
    register(operator, services, parentless);
    register(operator, new IngressController(ctx, redirectProbe), parentless);
    if (served(client, io.tailops.api.v1alpha1.Connector.class)) {
      register(operator, new io.tailops.operator.connector.ConnectorController(ctx), parentless);
    } else {
      LOG.info("the Connector CRD is not installed: Connectors are not watched");
    }
    // Not in the parent-less sweep yet: a ProxyGroup's objects carry owner references (the garbage collector removes
    // them with the group), and the sweep has not been checked against cluster-scoped parents.
    var proxyGroups = new io.tailops.operator.proxygroup.ProxyGroupController(ctx);
    operator.register(proxyGroups, proxyGroups.configuration());
    // Ingresses and Services served by an ingress ProxyGroup through a Tailscale Service.
    register(operator, new io.tailops.operator.ha.HaIngressController(ctx));
    register(operator, new io.tailops.operator.ha.HaServiceController(ctx));
    // ExternalName Services egressing to the tailnet through an egress ProxyGroup.
    var egressGroups = new io.tailops.operator.ha.EgressGroupController(ctx, clusterDomain(config.namespace()));
    register(operator, egressGroups);
    parentless.add(egressGroups);
    register(operator, new io.tailops.operator.ha.KubeApiServerController(ctx));
    operator.register(new ProxyClassReconciler(ctx, ctx.proxyClassUsers()), c -> c.withName(ProxyClassReconciler.NAME)
        .withGenerationAware(true)
        .withTriggerReconcilerOnAllEvents(true)
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()));
    io.tailops.operator.recorder.RecorderController.register(operator, ctx);
    // DNSConfig: the nameserver, and its records following the Ingress and egress proxies.
    if (served(client, io.tailops.api.v1alpha1.DNSConfig.class)) {
      operator.register(new NameserverReconciler(ctx), c -> c.withName(NameserverReconciler.NAME)
          .withGenerationAware(false).withTriggerReconcilerOnAllEvents(true)
          .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()));
      ServiceKind serviceKind = (ServiceKind) services.kind();
      DnsRecordsReconciler records = new DnsRecordsReconciler(ctx, serviceKind::service);
      operator.register(records, records.configuration());
    } else {
      LOG.info("the CRD dnsconfigs.tailscale.com is not installed: DNSConfig objects are not watched");
    }
    // Kinds not supported yet are reported (condition, Event); every kind is served now, so the list is empty.
    io.tailops.operator.unsupported.UnsupportedKinds.register(operator, ctx);
    OperatorRuntime rt = new OperatorRuntime(ctx, health, metrics, operator, http, admin, observed, reconciles);
    rt.timer = timer;
    if (http != null) {
      rt.routes();
      http.start();
      admin.start();
    }
    for (String w : config.warnings()) {
      LOG.warn(w);
    }
    if (!config.leaderElection()) {
      health.leader(true);
    }
    rt.statusPublisher = new OperatorStatusPublisher(client, config.namespace(), () -> rt.statusContent(identity))
        .on(timer);
    ctx.parents().onChange(() -> {
      if (health.isLeader()) {
        rt.statusPublisher.publishSoon();
      }
    });
    observed.listener(state -> {
      if (state == OperatorHealth.CredentialState.VALID) {
        ctx.retryKicks().kick();
      }
      if (health.isLeader()) {
        rt.statusPublisher.publish();
      }
    });
    observed.scopes().onChange(() -> {
      if (health.isLeader()) {
        rt.statusPublisher.publish();
      }
    });
    rt.sweeper = new DeviceSweeper(config, client, observed, health, metrics, clock, devices, () -> {
      if (health.isLeader()) {
        rt.statusPublisher.publish();
      }
    }).publishTo(tailnetDevices).keys(UnusedKeySweep.of(client, config.namespace(), observed,
        ctx.proxyDefaults().authKeys(), config.security().unusedKeyGrace(), clock,
        () -> metrics.selfHealing("UnusedKeyRevoked"))).on(timer).start();
    health.onLeading(rt.sweeper::sweepKeysSoon);
    rt.sweeper.keySweep().off().ifPresent(why -> LOG.warn("unused-key sweep off: {}", why));
    waitForCrd(client, health);
    operator.start();
    rt.josdkTimer = OperatorThreads.shareJosdkTimers(operator);
    if (config.leaderElection()) {
      rt.leaseWatch = watchLease(client, config, health, leaseGuard);
    }
    rt.parentless = parentless.start(config.deviceSweepInterval());
    rt.apiServerProxy = OperatorApiServerProxy.start(config, client, metrics.registry(), ctx.events(), clock,
        OperatorStatusPublisher.NAME);
    rt.apiServerProxy.status().onChange(() -> {
      if (health.isLeader()) {
        rt.statusPublisher.publish();
      }
    });
    if (config.selfDevice()) {
      rt.device = new OperatorDevice(config, client, observed, health, clock, identity,
          rt.adminPort() > 0 ? rt.adminPort() : config.security().adminPort())
          .apiServerProxy(rt.apiServerProxy.running() ? rt.apiServerProxy.port() : -1,
              rt.apiServerProxy.status()::endpoint)
          .start(Duration.ofSeconds(15));
    }
    java.util.List<java.nio.file.Path> credentialFiles = config.controlPlane()
        == OperatorConfig.ControlPlaneKind.HEADSCALE ? java.util.Collections.singletonList(config.headscaleApiKeyFile())
        : java.util.Arrays.asList(config.clientIdFile(), config.clientSecretFile());
    if (credentialFiles.stream().anyMatch(java.util.Objects::nonNull)) {
      rt.credentialWatcher = new CredentialWatcher(credentialFiles,
          observed, health, Duration.ofSeconds(30)).on(timer).start(Duration.ofSeconds(5));
    }
    health.started(true);
    LOG.info("operator started: namespace {}, control plane {}, proxy image {}", config.namespace(),
        controlPlane.capabilities().name(), config.proxyImage());
    return rt;
  }

  /**
   * {@code config} with the key mark of this installation ({@link io.tailops.operator.proxy.AuthKeys#markOf}, from the
   * operator namespace's UID). Without it (the namespace cannot be read) keys carry no mark and are never swept.
   */
  static OperatorConfig withKeyMark(OperatorConfig config, KubernetesClient client) {
    if (!config.security().keyMark().isEmpty()) {
      return config;
    }
    String uid = null;
    try {
      var ns = client.namespaces().withName(config.namespace()).get();
      uid = ns == null ? null : ns.getMetadata().getUid();
    } catch (RuntimeException e) {
      LOG.warn("cannot read the operator namespace {} ({}): auth keys get no installation mark, and the key sweep "
          + "cannot tell this operator's keys from others' and revokes none", config.namespace(), e.getMessage());
    }
    String mark = io.tailops.operator.proxy.AuthKeys.markOf(uid);
    if (!mark.isEmpty()) {
      LOG.info("auth keys this operator mints end their description with {} (from the UID of namespace {})", mark,
          config.namespace());
    }
    return config.withSecurity(config.security().withKeyMark(mark));
  }

  /** Whether a custom resource's CRD is served; true also when that cannot be told (the informer then retries). */
  private static boolean served(KubernetesClient client,
      Class<? extends io.fabric8.kubernetes.client.CustomResource<?, ?>> type) {
    try {
      client.resources(type).list(new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(1L).build());
      return true;
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      return e.getCode() != 404;
    }
  }

  /** The cluster's DNS domain, from this pod's resolv.conf as upstream reads it (cluster.local when it cannot tell). */
  static String clusterDomain(String namespace) {
    try {
      return ClusterDomain.fromResolvConf(java.nio.file.Files.readString(java.nio.file.Path.of("/etc/resolv.conf")),
          namespace);
    } catch (java.io.IOException | RuntimeException e) {
      return ClusterDomain.DEFAULT;
    }
  }

  private static <P extends io.fabric8.kubernetes.api.model.HasMetadata> void register(Operator operator,
      ProxyController<P, ?, ?> controller, ParentlessSweep parentless) {
    operator.register(controller, controller.configuration());
    parentless.add(controller);
  }

  private static <P extends io.fabric8.kubernetes.api.model.HasMetadata> void register(Operator operator,
      io.tailops.operator.ha.HaController<P, ?> controller) {
    operator.register(controller, controller.configuration());
  }

  /**
   * Reads the Lease every retry period (on its own thread: a read that hangs delays nothing else) and checks
   * {@link LeaseGuard} five times a second, so that a leader that cannot see its own renewals any more stops within
   * the renew deadline, before a standby may take the Lease, even when every request to the API server hangs.
   */
  private static java.util.concurrent.ScheduledExecutorService watchLease(KubernetesClient client,
      OperatorConfig config, OperatorHealth health, LeaseGuard guard) {
    java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newScheduledThreadPool(2,
        r -> {
          Thread t = new Thread(r, "lease-guard");
          t.setDaemon(true);
          return t;
        });
    timer.scheduleWithFixedDelay(() -> {
      if (!health.isLeader()) {
        return;
      }
      try {
        var lease = client.leases().inNamespace(config.namespace()).withName(config.leaseName()).get();
        if (lease != null && lease.getSpec() != null) {
          guard.observed(lease.getSpec().getHolderIdentity(), lease.getSpec().getRenewTime() == null ? null
              : lease.getSpec().getRenewTime().toInstant());
        }
      } catch (RuntimeException e) {
        LOG.debug("reading the Lease failed: {}", e.toString());
      }
    }, LeaseGuard.RETRY_PERIOD.toMillis(), LeaseGuard.RETRY_PERIOD.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(() -> {
      String reason = guard.lost();
      if (reason != null) {
        lostLeadership(health, guard, reason);
      }
    }, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
    return timer;
  }

  /**
   * Lost leadership while running: stop at once, without the graceful shutdown (which lets reconciles run on for up
   * to 10 s and write): a replica whose Lease may be taken must not write another byte. The pod restarts clean, as
   * controller-runtime's manager exits. Not while shutting down (JOSDK calls the election's callback from its
   * shutdown path), and not when {@code tsop.exitOnLostLeadership=false} (operators run in-process by tests).
   */
  private static void lostLeadership(OperatorHealth health, LeaseGuard guard, String reason) {
    health.leader(false);
    guard.stoppedLeading();
    if (SHUTTING_DOWN.get()) {
      LOG.info("stopped leading");
      return;
    }
    if ("false".equals(System.getProperty("tsop.exitOnLostLeadership"))) {
      LOG.warn("stopped leading: {}", reason);
      return;
    }
    if (LOST.compareAndSet(false, true)) {
      LOG.error("lost leadership: {}; exiting now", reason);
      System.out.flush();
      System.err.flush();
      Runtime.getRuntime().halt(1);
    }
  }

  /**
   * Waits until the ProxyClass CRD is installed, saying so once (log and {@code /readyz}) instead of failing to start
   * or logging informer errors forever.
   */
  static void waitForCrd(KubernetesClient client, OperatorHealth health) {
    boolean told = false;
    while (true) {
      try {
        client.resources(io.tailops.api.v1alpha1.ProxyClass.class).list(
            new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(1L).build());
        if (told) {
          LOG.info("the ProxyClass CRD is installed now; starting");
        }
        health.notes().remove("waiting");
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
        String msg = "the CRD " + io.tailops.api.v1alpha1.ProxyClass.CRD_NAME + " is not installed: install the chart "
            + "with installCRDs: true (the default), or apply its CRD; the operator starts as soon as it exists";
        health.notes().put("waiting", msg);
        if (!told) {
          LOG.error(msg);
          told = true;
        }
      }
      try {
        Thread.sleep(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the ProxyClass CRD", e);
      }
    }
  }

  private void routes() {
    http.route("/healthz", () -> HttpEndpoints.Response.text(200, "ok\n"));
    http.route("/readyz", () -> {
      boolean ok = health.isStarted() && operator.getRuntimeInfo().isStarted();
      String waiting = health.notes().get("waiting");
      return ok ? HttpEndpoints.Response.text(200, "ok\n")
          : HttpEndpoints.Response.text(503, waiting == null ? "starting\n" : waiting + "\n");
    });
    java.util.function.Supplier<HttpEndpoints.Response> scrape = () -> new HttpEndpoints.Response(200,
        "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
    http.route("/metrics", scrape);
    doctorResults = new DoctorResults(this::doctor, ctx.clock(), ctx.config().security().doctorMinInterval());
    StatusPage page = new StatusPage(ctx, health, () -> device == null ? io.tailops.operator.proxy.DeviceState.NONE
        : device.device(), () -> sweeper == null ? java.util.List.of() : sweeper.lastOrphans(),
        () -> doctorResults.get().checks());
    java.util.function.Supplier<HttpEndpoints.Response> status = () -> new HttpEndpoints.Response(200,
        "text/html; charset=utf-8", page.html());
    java.util.function.Supplier<HttpEndpoints.Response> doctorText = () -> doctorResponse(false);
    java.util.function.Supplier<HttpEndpoints.Response> doctorJson = () -> doctorResponse(true);
    // kubectl port-forward to the admin port: whoever may port-forward to the operator pod may see everything.
    admin.route("/", status);
    admin.route("/status", status);
    admin.route("/doctor", doctorText);
    admin.route("/doctor.json", doctorJson);
    admin.route("/metrics", scrape);
    // The tailnet, through the device's serve config ("/" is forwarded to "/tailnet"): only callers the gate admits.
    StatusPageGate gate = new StatusPageGate(ctx.config().security().statusPage(),
        new io.tailops.operator.apiproxy.LocalApiWhoIs(ctx.config().apiServerProxy().deviceSocket()));
    java.util.Map.of(OperatorDevice.TAILNET_PATH, status, OperatorDevice.TAILNET_PATH + "/doctor", doctorText,
        OperatorDevice.TAILNET_PATH + "/doctor.json", doctorJson, OperatorDevice.TAILNET_PATH + "/metrics", scrape)
        .forEach((path, page1) -> admin.routeRequest(path, req -> {
          StatusPageGate.Decision d = gate.decide(req.headers("X-Forwarded-For"));
          if (!d.allowed()) {
            LOG.info("status page on the tailnet: refused {} ({})", d.caller().isEmpty() ? "a caller" : d.caller(),
                d.status());
            return HttpEndpoints.Response.text(d.status(), d.message() + "\n");
          }
          return page1.get();
        }));
  }

  /** doctor's last results (at most one run per OPERATOR_DOCTOR_MIN_INTERVAL); 503 when a check failed. */
  private HttpEndpoints.Response doctorResponse(boolean json) {
    DoctorResults.Result r = doctorResults.get();
    int status = io.tailops.operator.doctor.Doctor.failed(r.checks()) ? 503 : 200;
    HttpEndpoints.Response resp = json
        ? new HttpEndpoints.Response(status, "application/json", io.tailops.operator.doctor.Doctor.json(r.checks()))
        : HttpEndpoints.Response.text(status, io.tailops.operator.doctor.Doctor.text(r.checks()) + "checked at "
            + r.at() + " (doctor runs at most once every " + doctorResults.minInterval().toSeconds() + " s)\n");
    return resp.withHeader("Age", Long.toString(r.ageSeconds(ctx.clock().instant())));
  }

  /** Doctor's checks, with the API server proxy's. */
  private java.util.List<io.tailops.operator.doctor.Doctor.Check> doctor() {
    var checks = new java.util.ArrayList<>(DoctorChecks.doctor(ctx.config(), ctx.client(), controlPlane,
        false).run());
    if (apiServerProxy != null) {
      apiServerProxy.check().ifPresent(checks::add);
    }
    controlPlane.scopes().check().ifPresent(checks::add);
    return checks;
  }

  /** What the status ConfigMap says. */
  java.util.Map<String, String> statusContent(String identity) {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    OperatorHealth h = health;
    String cred = switch (h.credentialState()) {
      case VALID -> "valid";
      case UNKNOWN -> "not checked yet";
      case INVALID -> "invalid since " + h.credentialsChangedAt() + ": " + h.credentialMessage();
      case UNAVAILABLE -> "unavailable since " + h.credentialsChangedAt() + ": " + h.credentialMessage();
    };
    m.put("credentials", cred);
    m.put("controlPlane", controlPlane.capabilities().name() + (ctx.config().loginServer().isEmpty() ? ""
        : " at " + ctx.config().loginServer()));
    var orphans = sweeper == null ? java.util.List.<DeviceSweeper.Orphan>of() : sweeper.lastOrphans();
    m.put("orphanedDevices", orphans.isEmpty() ? "none" : String.join("\n", orphans.stream()
        .map(o -> o.nodeId() + " " + o.name() + " tags " + o.tags() + " last seen " + o.lastSeen()
            + " (" + o.outcome() + ")")
        .toList()));
    m.put("missingScopes", controlPlane.scopes().summary());
    m.put("unusedKeySweep", sweeper == null || sweeper.keySweep() == null ? "not started"
        : sweeper.keySweep().off().map(why -> "off: " + why).orElse("on: revokes the auth keys this operator minted "
            + "that no Secret holds, " + ctx.config().security().unusedKeyGrace().toSeconds() + " s after their mint ("
            + sweeper.keySweep().revoked() + " so far)"));
    if (apiServerProxy != null && ctx.config().apiServerProxy().enabled()) {
      m.put("apiServerProxy", apiServerProxy.status().summary());
    }
    m.put(ParentReport.KEY, ParentReport.text(ctx.parents().all()));
    return m;
  }

  public OperatorDevice device() {
    return device;
  }

  /** The Kubernetes API server proxy ({@code APISERVER_PROXY}); null before the operator started. */
  public OperatorApiServerProxy apiServerProxy() {
    return apiServerProxy;
  }

  public DeviceSweeper sweeper() {
    return sweeper;
  }

  /** The newest version of each object that a completed reconcile saw (what tests wait for after a change). */
  public CompletedReconciles reconciles() {
    return reconciles;
  }

  /** What the running operator is made of, for tests and the local environment. */
  public RuntimeContext context() {
    return new RuntimeContext(ctx, health, metrics);
  }

  /**
   * The running operator's parts.
   *
   * @param reconcile what its reconcilers share
   * @param health its own state (credentials, leadership, recent errors)
   * @param metrics its Prometheus metrics
   */
  public record RuntimeContext(OperatorContext reconcile, OperatorHealth health, OperatorMetrics metrics) {
  }

  public ObservedControlPlane controlPlane() {
    return controlPlane;
  }

  /** Port of the HTTP endpoints, or -1 when disabled. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** Port of the loopback admin endpoints (status page, doctor), or -1 when disabled. */
  public int adminPort() {
    return admin == null ? -1 : admin.port();
  }

  /** The address the admin endpoints listen on (a loopback address), or null when disabled. */
  public java.net.InetSocketAddress adminAddress() {
    return admin == null ? null : admin.address();
  }

  /** doctor as the running operator serves it (cached and rate-limited); null before the endpoints started. */
  public DoctorResults doctorResults() {
    return doctorResults;
  }

  @Override
  public void close() {
    if (leaseWatch != null) {
      leaseWatch.shutdownNow();
    }
    if (credentialWatcher != null) {
      credentialWatcher.close();
    }
    if (sweeper != null) {
      sweeper.close();
    }
    if (parentless != null) {
      parentless.close();
    }
    if (statusPublisher != null) {
      statusPublisher.close();
    }
    if (device != null) {
      device.close();
    }
    if (apiServerProxy != null) {
      apiServerProxy.close();
    }
    try {
      operator.stop();
    } catch (RuntimeException e) {
      LOG.warn("error while stopping: {}", e.toString());
    }
    if (josdkTimer != null) {
      josdkTimer.end();
    }
    ctx.devices().close();
    if (timer != null) {
      timer.shutdownNow();
    }
    if (http != null) {
      http.close();
      admin.close();
    }
  }
}
