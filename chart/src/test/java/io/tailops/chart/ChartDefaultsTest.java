package io.tailops.chart;

import static io.tailops.chart.Rbac.grants;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The chart rendered with its defaults: every object, and the operator Deployment in detail. */
class ChartDefaultsTest {
  static Rendered r;

  @BeforeAll
  static void render() {
    r = Chart.render();
  }

  @Test
  void rendersExactlyTheseObjects() {
    assertThat(r.ids()).containsExactlyInAnyOrder(
        "ServiceAccount/operator",
        "ClusterRole/tailscale-operator",
        "ClusterRoleBinding/tailscale-operator",
        "Role/operator",
        "RoleBinding/operator",
        "ServiceAccount/proxies",
        "Role/proxies",
        "RoleBinding/proxies",
        "Deployment/operator",
        "Service/operator-metrics",
        "IngressClass/tailscale",
        "CustomResourceDefinition/proxyclasses.tailscale.com",
        "CustomResourceDefinition/connectors.tailscale.com",
        "CustomResourceDefinition/proxygroups.tailscale.com",
        "CustomResourceDefinition/recorders.tailscale.com",
        "CustomResourceDefinition/dnsconfigs.tailscale.com");
  }

  @Test
  void namespacedObjectsLiveInTheReleaseNamespace() {
    r.objects().stream()
        .filter(o -> !Set.of("ClusterRole", "ClusterRoleBinding", "IngressClass", "CustomResourceDefinition")
            .contains(o.getKind()))
        .forEach(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo(Chart.NAMESPACE));
  }

  @Test
  void deploymentMatchesUpstreamShape() {
    Deployment d = r.deployment();
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    // Not upstream's Recreate: the running operator (also the official one, on an upgrade from its chart) keeps
    // working until the new pod is ready (UpgradeFromOfficialChartTest).
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal()).isEqualTo(1);
    assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
    // The selector must stay exactly upstream's: it is immutable, so `helm upgrade` from the official chart works.
    assertThat(d.getSpec().getSelector().getMatchLabels()).isEqualTo(Map.of("app", "operator"));
    assertThat(d.getSpec().getSelector().getMatchExpressions()).isNullOrEmpty();
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).isEqualTo(Map.of("app", "operator"));
    assertThat(r.podSpec().getServiceAccountName()).isEqualTo("operator");
    assertThat(r.podSpec().getNodeSelector()).isEqualTo(Map.of("kubernetes.io/os", "linux"));
    assertThat(r.podSpec().getAffinity()).isNull();
    assertThat(r.podSpec().getTolerations()).isNullOrEmpty();
    assertThat(r.podSpec().getImagePullSecrets()).isNullOrEmpty();
  }

  @Test
  void operatorContainerRunsOurImageWithUpstreamPullPolicy() {
    Container c = r.operatorContainer();
    // The published image (tools/release/published.env), at the chart's appVersion.
    assertThat(c.getImage()).isEqualTo("ghcr.io/tailops/tailscale-operator:0.1.0");
    assertThat(c.getImagePullPolicy()).isEqualTo("Always");
    assertThat(c.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getContainerPort()).isEqualTo(8080);
    });
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    // A memory bound by default (upstream has none): the JVM sizes its heap from the limit (docs/benchmarks).
    assertThat(c.getResources().getRequests().get("memory").toString()).isEqualTo("192Mi");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("512Mi");
    assertThat(c.getResources().getLimits()).doesNotContainKey("cpu");
  }

  @Test
  void operatorContainerIsLockedDownByDefault() {
    SecurityContext sc = r.operatorContainer().getSecurityContext();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getRunAsUser()).isEqualTo(65532L);
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(sc.getPrivileged()).isNull();
    // With a read-only root filesystem the JVM needs a writable /tmp.
    assertThat(r.volumes().get("tmp").getEmptyDir()).isNotNull();
    assertThat(r.operatorContainer().getVolumeMounts())
        .anySatisfy(m -> {
          assertThat(m.getName()).isEqualTo("tmp");
          assertThat(m.getMountPath()).isEqualTo("/tmp");
        });
  }

  @Test
  void envFollowsUpstreamOrderThenOurs() {
    assertThat(r.envNames()).containsExactly(
        // upstream §8.2, in its order
        "OPERATOR_INITIAL_TAGS", "OPERATOR_HOSTNAME", "OPERATOR_SECRET", "OPERATOR_LOGGING", "OPERATOR_NAMESPACE",
        "OPERATOR_LOGIN_SERVER", "OPERATOR_INGRESS_CLASS_NAME", "CLIENT_ID_FILE", "CLIENT_SECRET_FILE",
        "PROXY_IMAGE", "PROXY_TAGS", "APISERVER_PROXY", "PROXY_FIREWALL_MODE", "POD_NAME", "POD_UID",
        // ours
        "OPERATOR_LEADER_ELECTION", "OPERATOR_HTTP_PORT", "OPERATOR_ORPHAN_DEVICES", "OPERATOR_ORPHAN_GRACE_PERIOD",
        "OPERATOR_AUTH_KEY_EXPIRY", "OPERATOR_CONTROL_PLANE", "OPERATOR_SELF_DEVICE", "OPERATOR_STATUS_PAGE",
        "OPERATOR_DEVICE_SOCKET");
  }

  @Test
  void envValuesMatchUpstreamDefaults() {
    Map<String, String> env = r.env();
    assertThat(env).containsEntry("OPERATOR_INITIAL_TAGS", "tag:k8s-operator")
        .containsEntry("OPERATOR_HOSTNAME", "tailscale-operator")
        .containsEntry("OPERATOR_SECRET", "operator")
        .containsEntry("OPERATOR_LOGGING", "info")
        .containsEntry("OPERATOR_LOGIN_SERVER", "")
        .containsEntry("OPERATOR_INGRESS_CLASS_NAME", "tailscale")
        .containsEntry("CLIENT_ID_FILE", "/oauth/client_id")
        .containsEntry("CLIENT_SECRET_FILE", "/oauth/client_secret")
        .containsEntry("PROXY_IMAGE", "tailscale/tailscale:v1.94.2")
        .containsEntry("PROXY_TAGS", "tag:k8s")
        .containsEntry("APISERVER_PROXY", "false")
        .containsEntry("PROXY_FIREWALL_MODE", "auto")
        .containsEntry("OPERATOR_LEADER_ELECTION", "true")
        .containsEntry("OPERATOR_HTTP_PORT", "8080")
        .containsEntry("OPERATOR_ORPHAN_DEVICES", "report")
        .containsEntry("OPERATOR_ORPHAN_GRACE_PERIOD", "24h")
        .containsEntry("OPERATOR_CONTROL_PLANE", "tailscale")
        .containsEntry("OPERATOR_SELF_DEVICE", "true")
        .doesNotContainKeys("PROXY_DEFAULT_CLASS", "OPERATOR_FUNNEL_NAMESPACES", "CLIENT_ID", "HEADSCALE_API_KEY_FILE");
    assertThat(fieldRef("OPERATOR_NAMESPACE")).isEqualTo("metadata.namespace");
    assertThat(fieldRef("POD_NAME")).isEqualTo("metadata.name");
    assertThat(fieldRef("POD_UID")).isEqualTo("metadata.uid");
  }

  private static String fieldRef(String name) {
    return r.envVar(name).orElseThrow().getValueFrom().getFieldRef().getFieldPath();
  }

  @Test
  void oauthSecretIsMountedWholeSoPatchesReachTheOperator() {
    Volume oauth = r.volumes().get("oauth");
    assertThat(oauth.getSecret().getSecretName()).isEqualTo("operator-oauth");
    // No items and no subPath: the kubelet then refreshes the files after `kubectl patch secret operator-oauth`.
    assertThat(oauth.getSecret().getItems()).isNullOrEmpty();
    VolumeMount m = r.operatorContainer().getVolumeMounts().stream()
        .filter(v -> v.getName().equals("oauth")).findFirst().orElseThrow();
    assertThat(m.getMountPath()).isEqualTo("/oauth");
    assertThat(m.getReadOnly()).isTrue();
    assertThat(m.getSubPath()).isNull();
    // The user creates operator-oauth (seed's flow): the chart must not render it.
    assertThat(r.secret("operator-oauth")).isEmpty();
  }

  @Test
  void deviceContainerRunsContainerbootUnprivilegedOnlyInTheLeaderOnceConfigExists() {
    assertThat(r.podSpec().getContainers()).extracting(Container::getName).containsExactly("operator", "tailscale");
    Container ts = r.container("tailscale");
    assertThat(ts.getImage()).isEqualTo("tailscale/tailscale:v1.94.2");
    assertThat(ts.getCommand()).hasSize(3);
    assertThat(ts.getCommand().subList(0, 2)).containsExactly("/bin/sh", "-c");
    assertThat(ts.getCommand().get(2))
        .contains("d=/etc/tsconfig/operator")
        .contains("[ -e \"$d/cap-107.hujson\" ] && [ \"$(cat \"$d/leader\" 2>/dev/null)\" = \"$POD_NAME\" ]")
        .contains("/usr/local/bin/containerboot & child=$!");
    assertThat(ts.getArgs()).isNullOrEmpty();

    Map<String, String> env = new java.util.LinkedHashMap<>();
    for (EnvVar e : ts.getEnv()) {
      env.put(e.getName(), e.getValueFrom() != null ? e.getValueFrom().getFieldRef().getFieldPath() : e.getValue());
    }
    assertThat(env).containsExactlyInAnyOrderEntriesOf(Map.of(
        "TS_USERSPACE", "true",
        "POD_NAME", "metadata.name",
        "POD_UID", "metadata.uid",
        "TS_KUBE_SECRET", "operator",
        "TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "/etc/tsconfig/operator",
        "TS_SERVE_CONFIG", "/etc/tailscaled/operator/serve-config",
        "TS_INTERNAL_APP", "k8s-operator"));
    // containerboot refuses these together with a config dir (wire contract §3.1).
    assertThat(env).doesNotContainKeys("TS_AUTHKEY", "TS_HOSTNAME", "TS_EXTRA_ARGS", "TS_ROUTES", "TS_ACCEPT_DNS");

    SecurityContext sc = ts.getSecurityContext();
    assertThat(sc.getPrivileged()).isNull();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(ts.getResources().getRequests()).containsKeys("cpu", "memory");

    Volume config = r.volumes().get("operator-config");
    assertThat(config.getSecret().getSecretName()).isEqualTo("operator");
    assertThat(config.getSecret().getOptional()).isTrue();
    assertThat(config.getSecret().getItems()).isNullOrEmpty();
    Volume serve = r.volumes().get("operator-serve-config");
    assertThat(serve.getSecret().getSecretName()).isEqualTo("operator");
    assertThat(serve.getSecret().getOptional()).isTrue();
    assertThat(serve.getSecret().getItems()).singleElement().satisfies(i -> {
      assertThat(i.getKey()).isEqualTo("serve-config");
      assertThat(i.getPath()).isEqualTo("serve-config");
    });
    assertThat(r.volumes().get("tailscale-tmp").getEmptyDir()).isNotNull();
    assertThat(ts.getVolumeMounts()).extracting(VolumeMount::getName, VolumeMount::getMountPath, VolumeMount::getReadOnly)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("operator-config", "/etc/tsconfig/operator", true),
            org.assertj.core.groups.Tuple.tuple("operator-serve-config", "/etc/tailscaled/operator", true),
            org.assertj.core.groups.Tuple.tuple("tailscale-tmp", "/tmp", null));
  }

  @Test
  void metricsServiceExposesTheHttpPort() {
    Service s = r.service("operator-metrics");
    assertThat(s.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(s.getSpec().getSelector()).isEqualTo(Map.of("app", "operator"));
    ServicePort p = s.getSpec().getPorts().get(0);
    assertThat(s.getSpec().getPorts()).hasSize(1);
    assertThat(p.getName()).isEqualTo("http-metrics");
    assertThat(p.getPort()).isEqualTo(8080);
    assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
    assertThat(r.ofKind("ServiceMonitor")).isEmpty();
  }

  @Test
  void ingressClassUsesTheFixedControllerString() {
    IngressClass ic = r.get(IngressClass.class, "tailscale");
    assertThat(ic.getSpec().getController()).isEqualTo("tailscale.com/ts-ingress");
  }

  @Test
  void operatorClusterRoleIsLeastPrivilege() {
    List<String> expected = new ArrayList<>();
    expected.addAll(grants("", "services", "get", "list", "watch", "update", "patch"));
    expected.addAll(grants("", "services/status", "update", "patch"));
    expected.addAll(grants("networking.k8s.io", "ingresses", "get", "list", "watch", "update", "patch"));
    expected.addAll(grants("networking.k8s.io", "ingresses/status", "update", "patch"));
    expected.addAll(grants("networking.k8s.io", "ingressclasses", "get", "list", "watch"));
    // the event recorder: create; get+patch to count a repeat; list to adopt an identical event after a restart
    expected.addAll(grants("", "events", "get", "list", "create", "patch"));
    expected.addAll(grants("tailscale.com", "proxyclasses", "get", "list", "watch", "update", "patch"));
    expected.addAll(grants("tailscale.com", "proxyclasses/status", "update", "patch"));
    expected.addAll(grants("tailscale.com", "proxygroups", "get", "list", "watch", "patch"));
    expected.addAll(grants("tailscale.com", "proxygroups/status", "update", "patch"));
    // Connectors: watched, finalizer patched, status set; the spec never changed.
    expected.addAll(grants("tailscale.com", "connectors", "get", "list", "watch", "patch"));
    expected.addAll(grants("tailscale.com", "connectors/status", "update", "patch"));
    // DNSConfig: its finalizer, and its status.
    expected.addAll(grants("tailscale.com", "dnsconfigs", "get", "list", "watch", "update", "patch"));
    expected.addAll(grants("tailscale.com", "dnsconfigs/status", "update", "patch"));
    // Recorders: watched, finalizer patched, status set; the spec never changed.
    expected.addAll(grants("tailscale.com", "recorders", "get", "list", "watch", "patch"));
    expected.addAll(grants("tailscale.com", "recorders/status", "update", "patch"));
    // HA Services: a ready endpoint; a DNSConfig's records: the egress proxies' addresses.
    expected.addAll(grants("discovery.k8s.io", "endpointslices", "get", "list", "watch"));
    // The operator's namespace UID: the owner of the Tailscale Services of HA Services and Ingresses.
    expected.addAll(grants("", "namespaces", "get"));
    for (String v : List.of("get", "list", "watch")) {
      expected.add(Rbac.grant("apiextensions.k8s.io", "customresourcedefinitions", v)
          + "@servicemonitors.monitoring.coreos.com");
    }

    assertThat(Rbac.permissions(r.clusterRoleRules("tailscale-operator")))
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void clusterRoleNeverGrantsSecretsNodesOrWildcards() {
    assertThat(Rbac.permissions(r.clusterRoleRules("tailscale-operator")))
        .noneMatch(p -> p.contains("secrets") || p.contains("nodes") || p.contains("*")
            || p.endsWith(":create") && p.contains("/services") || p.endsWith(":delete"));
  }

  @Test
  void operatorRoleCoversWhatItCreatesInItsNamespace() {
    String[] crud = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"};
    List<String> expected = new ArrayList<>();
    expected.addAll(grants("", "secrets", crud));
    expected.addAll(grants("apps", "statefulsets", crud));
    expected.addAll(grants("", "services", "create", "delete", "deletecollection"));
    expected.addAll(grants("", "pods", "get", "list", "watch", "delete"));
    // The EndpointSlice of each Service egressing through an egress ProxyGroup.
    expected.addAll(grants("discovery.k8s.io", "endpointslices", "create", "update", "patch", "delete"));
    expected.addAll(grants("", "configmaps", "get", "list", "watch", "create", "update", "patch", "delete"));
    expected.addAll(grants("apps", "deployments", "get", "list", "watch", "create", "update", "patch"));
    // Each proxy's own, a ProxyGroup's or a Recorder's ServiceAccount, Role and RoleBinding; a DNSConfig nameserver's ServiceAccount.
    expected.addAll(grants("", "serviceaccounts", "get", "list", "watch", "create", "update", "patch", "delete"));
    expected.addAll(grants("rbac.authorization.k8s.io", "roles", "get", "list", "watch", "create", "update", "patch",
        "delete"));
    expected.addAll(grants("rbac.authorization.k8s.io", "rolebindings", "get", "list", "watch", "create", "update",
        "patch", "delete"));
    expected.addAll(grants("coordination.k8s.io", "leases", "get", "list", "watch", "create", "update", "patch"));
    // get is for containerboot in the tailscale container, which checks get+create+patch before writing Events.
    expected.addAll(grants("", "events", "get", "create", "patch"));
    expected.addAll(grants("monitoring.coreos.com", "servicemonitors",
        "get", "list", "watch", "create", "update", "patch", "delete"));

    assertThat(Rbac.permissions(r.roleRules("operator"))).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void proxiesRoleCoversContainerboot() {
    List<String> expected = new ArrayList<>();
    expected.addAll(grants("", "secrets", "get", "list", "watch", "create", "update", "patch"));
    expected.addAll(grants("", "events", "get", "create", "patch"));
    assertThat(Rbac.permissions(r.roleRules("proxies"))).containsExactlyInAnyOrderElementsOf(expected);
    r.serviceAccount("proxies");
  }

  @Test
  void bindingsPointAtTheRightServiceAccounts() {
    ClusterRoleBinding crb = r.get(ClusterRoleBinding.class, "tailscale-operator");
    assertThat(crb.getRoleRef().getKind()).isEqualTo("ClusterRole");
    assertThat(crb.getRoleRef().getName()).isEqualTo("tailscale-operator");
    assertThat(crb.getSubjects()).extracting(Subject::getKind, Subject::getName, Subject::getNamespace)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("ServiceAccount", "operator", Chart.NAMESPACE));

    for (String name : List.of("operator", "proxies")) {
      RoleBinding rb = r.get(RoleBinding.class, name);
      assertThat(rb.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(rb.getRoleRef().getName()).isEqualTo(name);
      assertThat(rb.getSubjects()).extracting(Subject::getKind, Subject::getName, Subject::getNamespace)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("ServiceAccount", name, Chart.NAMESPACE));
    }
  }

  @Test
  void crdsAreKeptOnUninstall() {
    assertThat(r.crds()).isNotEmpty().allSatisfy(crd ->
        assertThat(crd.getMetadata().getAnnotations()).containsEntry("helm.sh/resource-policy", "keep"));
  }
}
