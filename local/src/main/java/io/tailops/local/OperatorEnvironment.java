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
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.ingress.RedirectProbe;
import io.tailops.operator.runtime.OperatorMetrics;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.kube.AuditEvents;
import io.tailops.testkit.kube.AuditLog;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.proxy.ProxySimulator;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The operator in-process with everything around it, shared by the integration tests, the local run command and the
 * benchmark. Everything an integration test needs: a real API server (with the controller manager, so foreground deletion and
 * StatefulSet pods work, and an audit log to count requests), the fake Tailscale API, the proxy simulator, and the
 * operator running in-process against them with the settings a Helm install would give it.
 */
public final class OperatorEnvironment implements AutoCloseable {
  public static final String NAMESPACE = "tailscale";
  /** User agent of the operator's Kubernetes client, to tell its requests apart in the audit log. */
  public static final String OPERATOR_USER_AGENT = "tailscale-operator-it";

  private final KubeApiServer kube;
  private final FakeTailscaleApi tailnet;
  private final ProxySimulator proxies;
  private final Path dir;
  private final Path clientIdFile;
  private final Path clientSecretFile;
  private final Map<String, String> env = new HashMap<>();
  private OAuthClient oauthClient;
  private OperatorRuntime operator;
  private KubernetesClient operatorClient;
  private UnaryOperator<URI> probeRewriter = UnaryOperator.identity();

  private OperatorEnvironment(KubeApiServer kube, FakeTailscaleApi tailnet, ProxySimulator proxies, Path dir) {
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
          .crdsFromClasspath("META-INF/fabric8/proxyclasses.tailscale.com-v1.yml").start();
      KubernetesClient client = kube.client();
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      client.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
          .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
          .build()).create();
      FakeTailscaleApi tailnet = FakeTailscaleApi.start();
      ProxySimulator proxies = ProxySimulator.start(client, NAMESPACE, tailnet);
      OperatorEnvironment env = new OperatorEnvironment(kube, tailnet, proxies, dir);
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

  /** Sets an operator environment variable (takes effect at the next operator start). */
  public OperatorEnvironment env(String name, String value) {
    if (value == null) {
      env.remove(name);
    } else {
      env.put(name, value);
    }
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
    Config kc = kube.config();
    kc.setUserAgent(OPERATOR_USER_AGENT);
    operatorClient = new KubernetesClientBuilder().withConfig(kc).build();
    OperatorMetrics metrics = new OperatorMetrics();
    ControlPlane cp = TailscaleApiClient.builder(CredentialSource.fromFiles(clientIdFile, clientSecretFile))
        .loginServer(tailnet.baseUrl())
        .retryPolicy(RetryPolicy.defaults().withBaseDelay(Duration.ofMillis(20)).withMaxDelay(Duration.ofMillis(200)))
        .requestTimeout(Duration.ofSeconds(5))
        .listener(metrics::controlPlaneCall)
        .build();
    try {
      operator = OperatorRuntime.start(config, operatorClient, cp, Clock.systemUTC(), 0,
          new RedirectProbe(Duration.ofSeconds(2), probeRewriter), metrics);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return operator;
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

  public FakeTailscaleApi tailnet() {
    return tailnet;
  }

  public ProxySimulator proxies() {
    return proxies;
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

  @Override
  public void close() {
    stopOperator();
    proxies.close();
    tailnet.close();
    kube.close();
  }
}
