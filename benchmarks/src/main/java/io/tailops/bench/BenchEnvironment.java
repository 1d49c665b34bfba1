package io.tailops.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.official.SplitControlPlane;
import io.tailops.testkit.proxy.ProxySimulator;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code io.tailops.local.OperatorEnvironment} sets up (real API server with controller manager and audit log,
 * fake Tailscale API, proxy simulator, the operator's settings), with what a benchmark at N = 1,000 needs in
 * addition: a Service CIDR large enough for N ClusterIPs (the test default {@code 10.0.0.0/24} holds 253), separate
 * user agents for the benchmark's and the simulator's own requests.
 *
 * <p>The control plane is the same for every operator under test: a {@link SplitControlPlane}, one login server that
 * sends the Tailscale API to the fake and the control protocol to a real headscale (the official operator brings up
 * its own tailnet node before it reconciles anything; ours only uses the API). The CRDs are the operator's own: ours
 * from the classpath, the official ones from its release for the official operator.
 */
final class BenchEnvironment implements AutoCloseable {
  static final String NAMESPACE = "tailscale";
  static final String BENCH_USER_AGENT = "tsop-bench";
  static final String SIMULATOR_USER_AGENT = "tsop-proxy-simulator";

  final KubeApiServer kube;
  final SplitControlPlane controlPlane;
  final FakeTailscaleApi tailnet;
  final ProxySimulator simulator;
  final KubernetesClient bench;
  private final KubernetesClient simulatorClient;
  final Path dir;
  final Map<String, String> operatorEnv = new LinkedHashMap<>();

  private BenchEnvironment(KubeApiServer kube, SplitControlPlane controlPlane, ProxySimulator simulator,
      KubernetesClient bench, KubernetesClient simulatorClient, Path dir) {
    this.kube = kube;
    this.controlPlane = controlPlane;
    this.tailnet = controlPlane.api();
    this.simulator = simulator;
    this.bench = bench;
    this.simulatorClient = simulatorClient;
    this.dir = dir;
  }

  /**
   * @param officialCrds the official operator's CRD YAML files (its release's {@code cmd/k8s-operator/deploy/crds}),
   *     or null for ours (every CRD of ours from the classpath)
   */
  static BenchEnvironment create(Path dir, List<Path> officialCrds) {
    try {
      Files.createDirectories(dir);
      KubeApiServer.Builder b = KubeApiServer.builder().controllerManager(true).auditLog(true)
          .apiServerFlag("--service-cluster-ip-range=10.0.0.0/16");
      if (officialCrds == null) {
        // every CRD of ours, as the chart installs them: the operator watches ProxyGroups (and the egress workloads
        // create one), and waits for every informer it starts
        b.crdsFromClasspath(io.tailops.api.v1alpha1.TailscaleResources.KINDS.stream().map(k -> "META-INF/fabric8/"
            + io.fabric8.kubernetes.client.CustomResource.getCRDName(k) + "-v1.yml").toArray(String[]::new));
      } else {
        b.crds(officialCrds.toArray(Path[]::new));
      }
      KubeApiServer kube = b.start();
      KubernetesClient admin = kube.client();
      admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
      admin.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
          .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
          .build()).create();
      SplitControlPlane controlPlane = SplitControlPlane.start(TailnetBinaries.locate());
      KubernetesClient simClient = client(kube, SIMULATOR_USER_AGENT);
      ProxySimulator sim = ProxySimulator.start(simClient, NAMESPACE, controlPlane.api());
      KubernetesClient bench = client(kube, BENCH_USER_AGENT);
      BenchEnvironment env = new BenchEnvironment(kube, controlPlane, sim, bench, simClient, dir);
      OAuthClient oauth = controlPlane.operatorClient();
      Path id = dir.resolve("client_id");
      Path secret = dir.resolve("client_secret");
      Files.writeString(id, oauth.id());
      Files.writeString(secret, oauth.secret());
      env.operatorEnv.put("OPERATOR_NAMESPACE", NAMESPACE);
      env.operatorEnv.put("CLIENT_ID_FILE", id.toString());
      env.operatorEnv.put("CLIENT_SECRET_FILE", secret.toString());
      env.operatorEnv.put("OPERATOR_LOGIN_SERVER", controlPlane.loginServer());
      env.operatorEnv.put("PROXY_IMAGE", "tailscale/tailscale:v1.94.2");
      env.operatorEnv.put("PROXY_FIREWALL_MODE", "auto");
      env.operatorEnv.put("OPERATOR_LEADER_ELECTION", "false");
      env.operatorEnv.put("OPERATOR_LOGGING", "info");
      env.operatorEnv.put("OPERATOR_LOG_FORMAT", "plain");
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static KubernetesClient client(KubeApiServer kube, String userAgent) {
    Config c = kube.config();
    c.setUserAgent(userAgent);
    return new KubernetesClientBuilder().withConfig(c).build();
  }

  void createNamespace(String name) {
    if (bench.namespaces().withName(name).get() == null) {
      bench.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
  }

  @Override
  public void close() {
    simulator.close();
    simulatorClient.close();
    bench.close();
    controlPlane.close();
    kube.close();
  }
}
