package io.tailops.local;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The permissions a Helm install gives: the ServiceAccounts, Roles, ClusterRoles and bindings of the chart
 * ({@code chart/tailscale-operator}), rendered with real Helm (helm-java, as the chart's own tests render it) with the
 * chart's default values and the few values that decide RBAC as the operator's settings imply them ({@link
 * #render(KubernetesClient, String, Map)}), and applied to a test API server. The operator then runs with the token of the chart's
 * operator ServiceAccount and the proxies with the {@code proxies} account's: whatever the chart forgets to grant fails
 * there as it would in a cluster.
 */
public final class ChartRbac {
  /** System property: the chart folder (default: {@code chart/tailscale-operator} in this folder or a parent). */
  public static final String CHART_DIR_PROPERTY = "tsop.chart.dir";
  /** The release name the chart is rendered with (the name the seed guide installs it under). */
  public static final String RELEASE = "tailscale-operator";
  static final Set<String> KINDS = Set.of("ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding");

  private static final Map<String, String> RENDERED = new ConcurrentHashMap<>();

  private final List<HasMetadata> objects;
  private final String operatorServiceAccount;
  private final Map<String, String> values;

  private ChartRbac(List<HasMetadata> objects, String operatorServiceAccount, Map<String, String> values) {
    this.objects = objects;
    this.operatorServiceAccount = operatorServiceAccount;
    this.values = values;
  }

  /** The chart's RBAC objects for a release in {@code namespace} with the default values. */
  public static ChartRbac render(KubernetesClient parser, String namespace) {
    return render(parser, namespace, Map.of());
  }

  /**
   * The chart's RBAC objects for a release in {@code namespace} with {@code values} set (as {@code helm --set}; e.g.
   * {@code apiServerProxyConfig.mode=true} adds the impersonation grant), rendered once per namespace, values and JVM.
   */
  public static ChartRbac render(KubernetesClient parser, String namespace, Map<String, String> values) {
    Map<String, String> set = Map.copyOf(values);
    String yaml = RENDERED.computeIfAbsent(namespace + " " + new java.util.TreeMap<>(set), k -> {
      var template = new Helm(chartDir()).template().withName(RELEASE).withNamespace(namespace);
      set.forEach(template::set);
      return template.call();
    });
    List<HasMetadata> all = parser.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    String sa = all.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .map(d -> d.getSpec().getTemplate().getSpec().getServiceAccountName()).findFirst()
        .orElseThrow(() -> new IllegalStateException("the chart renders no operator Deployment"));
    List<HasMetadata> rbac = all.stream().filter(o -> KINDS.contains(o.getKind())).toList();
    if (rbac.stream().noneMatch(o -> o.getKind().equals("ServiceAccount") && o.getMetadata().getName().equals(sa))) {
      throw new IllegalStateException("the chart renders no ServiceAccount " + sa + " for its Deployment");
    }
    return new ChartRbac(rbac, sa, set);
  }

  /** Creates (or updates) every object with the admin client. */
  public ChartRbac apply(KubernetesClient admin) {
    for (HasMetadata o : objects) {
      admin.resource(o).forceConflicts().serverSideApply();
    }
    return this;
  }

  /**
   * Makes the API server hold this rendering instead of {@code previous} (as {@code helm upgrade} with other values
   * does): applies every object and deletes those {@code previous} rendered and this one does not.
   */
  public ChartRbac replace(ChartRbac previous, KubernetesClient admin) {
    apply(admin);
    for (HasMetadata old : previous.objects) {
      boolean kept = objects.stream().anyMatch(o -> o.getKind().equals(old.getKind())
          && o.getMetadata().getName().equals(old.getMetadata().getName())
          && java.util.Objects.equals(o.getMetadata().getNamespace(), old.getMetadata().getNamespace()));
      if (!kept) {
        admin.resource(old).delete();
      }
    }
    return this;
  }

  /** The values this rendering set besides the chart's defaults. */
  public Map<String, String> values() {
    return values;
  }

  public List<HasMetadata> objects() {
    return objects;
  }

  /** The ServiceAccount the chart's Deployment runs the operator as. */
  public String operatorServiceAccount() {
    return operatorServiceAccount;
  }

  /** The chart folder: {@value #CHART_DIR_PROPERTY}, else {@code chart/tailscale-operator} here or in a parent. */
  static Path chartDir() {
    String p = System.getProperty(CHART_DIR_PROPERTY);
    if (p != null && !p.isBlank()) {
      return Path.of(p.trim());
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path chart = d.resolve("chart").resolve("tailscale-operator");
      if (Files.isRegularFile(chart.resolve("Chart.yaml"))) {
        return chart;
      }
    }
    throw new IllegalStateException("the Helm chart chart/tailscale-operator is not in " + Path.of("")
        .toAbsolutePath() + " or a parent folder; set -D" + CHART_DIR_PROPERTY + "=<chart folder>");
  }
}
