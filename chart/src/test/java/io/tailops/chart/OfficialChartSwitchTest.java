package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.kube.KubeApiServerExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Switching between the official chart and ours loses nothing: a release of the official chart 1.94.2 (rendered from
 * its source, with its CRDs, as released) with one object of every kind is upgraded to our chart and then back to the
 * official chart. After each step every CRD and every object still exists with the same UID (nothing deleted,
 * nothing re-created), and so does the operator Deployment. As the chart README says, the upgrades keep the user's
 * values and take the new chart's defaults ({@code --reset-then-reuse-values}). Finally, uninstalling our chart keeps
 * the CRDs and objects.
 */
@Tag("apiserver")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OfficialChartSwitchTest {
  static final String NS = Chart.NAMESPACE;
  static final List<String> CRDS = List.of("connectors.tailscale.com", "dnsconfigs.tailscale.com",
      "proxyclasses.tailscale.com", "proxygroups.tailscale.com", "recorders.tailscale.com");

  /** One object of every kind, valid for the official CRDs (a Recorder needs replicas there). */
  static final String OBJECTS = """
      apiVersion: tailscale.com/v1alpha1
      kind: ProxyClass
      metadata:
        name: prod
      spec:
        statefulSet:
          pod:
            tailscaleInitContainer:
              env:
                - name: TS_EXTRA_ARGS
                  value: --advertise-tags=tag:k8s-operator
      ---
      apiVersion: tailscale.com/v1alpha1
      kind: Connector
      metadata:
        name: prod
      spec:
        tags: ["tag:prod"]
        hostnamePrefix: ts-prod
        replicas: 2
        subnetRouter:
          advertiseRoutes: ["10.40.0.0/14"]
        exitNode: true
      ---
      apiVersion: tailscale.com/v1alpha1
      kind: DNSConfig
      metadata:
        name: ts-dns
      spec:
        nameserver: {}
      ---
      apiVersion: tailscale.com/v1alpha1
      kind: ProxyGroup
      metadata:
        name: api-proxies
      spec:
        type: kube-apiserver
        replicas: 2
      ---
      apiVersion: tailscale.com/v1alpha1
      kind: Recorder
      metadata:
        name: recorder
      spec:
        enableUI: true
        replicas: 1
      """;

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension();

  static KubernetesClient client;
  static Path kubeconfig;
  /** UIDs seen after installing the official chart and creating the objects: "kind/name" to UID. */
  static Map<String, String> uids;

  @BeforeAll
  static void setUp() {
    KubeApiServer kube = KUBE.server();
    client = kube.client();
    kubeconfig = kube.kubeconfig();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
  }

  @Order(1)
  @Test
  void installTheOfficialChartAndOneObjectOfEveryKind() {
    Release release = OfficialChart.helm().install().withName(Chart.RELEASE).withNamespace(NS)
        .withKubeConfig(kubeconfig).withValuesFile(Chart.valuesFile(ChartValuesTest.SEED_VALUES)).call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    assertThat(release.getChart()).isEqualTo("tailscale-operator-" + OfficialChart.VERSION);
    for (String crd : CRDS) {
      assertThat(crd(crd).getMetadata().getAnnotations()).as("official %s", crd)
          .doesNotContainKey("helm.sh/resource-policy");
    }
    for (HasMetadata o : client.load(CrdExamplesTest.stream(OBJECTS)).items()) {
      client.resource(o).create();
    }
    uids = snapshot();
    assertThat(uids).hasSize(CRDS.size() * 2 + 1);
  }

  @Order(2)
  @Test
  void upgradeToOurChartKeepsEveryCrdAndObject() {
    Release release = Chart.helm().upgrade().withName(Chart.RELEASE).withNamespace(NS).withKubeConfig(kubeconfig)
        .resetThenReuseValues().call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    assertThat(release.getChart()).startsWith("tailscale-operator-0.");
    assertThat(snapshot()).as("CRDs, objects and the Deployment: same UIDs").isEqualTo(uids);
    // The NOTES say that the kube-apiserver group in auth mode lacks the ServiceAccount its pods run as (the seed's
    // values do not allow impersonation); every kind is served.
    assertThat(release.getOutput()).contains("WARNINGS")
        .contains("1 ProxyGroup object(s) of type kube-apiserver in auth mode exist (api-proxies), but this release "
            + "does not render the ServiceAccount kube-apiserver-auth-proxy their pods run as: the operator refuses "
            + "them (ProxyGroupReady=False, reason ProxyGroupInvalid) until you set "
            + "apiServerProxyConfig.allowImpersonation: \"true\"")
        .doesNotContain("DNSConfig object(s)").doesNotContain("ProxyClass object(s)")
        .doesNotContain("Connector object(s)").doesNotContain("Recorder object(s)");
    for (String crd : CRDS) {
      assertThat(crd(crd).getMetadata().getAnnotations()).as("our %s", crd)
          .containsEntry("helm.sh/resource-policy", "keep");
    }
    assertThat(client.apps().deployments().inNamespace(NS).withName("operator").get().getSpec().getTemplate()
        .getSpec().getContainers().get(0).getImage()).startsWith("ghcr.io/tailops/tailscale-operator:");
  }

  @Order(3)
  @Test
  void upgradeBackToTheOfficialChartKeepsEveryCrdAndObject() {
    Release release = OfficialChart.helm().upgrade().withName(Chart.RELEASE).withNamespace(NS)
        .withKubeConfig(kubeconfig).resetThenReuseValues().call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    assertThat(release.getChart()).isEqualTo("tailscale-operator-" + OfficialChart.VERSION);
    assertThat(snapshot()).as("CRDs, objects and the Deployment: same UIDs").isEqualTo(uids);
    assertThat(client.apps().deployments().inNamespace(NS).withName("operator").get().getSpec().getTemplate()
        .getSpec().getContainers().get(0).getImage()).startsWith("tailscale/k8s-operator:");
  }

  @Order(4)
  @Test
  void uninstallingOurChartKeepsEveryCrdAndObject() {
    Chart.helm().upgrade().withName(Chart.RELEASE).withNamespace(NS).withKubeConfig(kubeconfig)
        .resetThenReuseValues().call();
    Helm.uninstall(Chart.RELEASE).withNamespace(NS).withKubeConfig(kubeconfig).call();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> client.apps().deployments().inNamespace(NS).withName("operator").get() == null);
    Map<String, String> expected = new TreeMap<>(uids);
    expected.remove("deployment/operator");
    assertThat(snapshot()).as("helm.sh/resource-policy: keep on every CRD").isEqualTo(expected);
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static CustomResourceDefinition crd(String name) {
    return client.apiextensions().v1().customResourceDefinitions().withName(name).get();
  }

  /** "kind/name" to UID of the five CRDs, the five objects and the operator Deployment; absent ones left out. */
  static Map<String, String> snapshot() {
    Map<String, String> out = new TreeMap<>();
    for (String name : CRDS) {
      CustomResourceDefinition crd = crd(name);
      if (crd == null) {
        continue;
      }
      out.put("crd/" + name, crd.getMetadata().getUid());
      String kind = crd.getSpec().getNames().getKind();
      for (GenericKubernetesResource o : client.genericKubernetesResources("tailscale.com/v1alpha1", kind).list()
          .getItems()) {
        out.put(kind + "/" + o.getMetadata().getName(), o.getMetadata().getUid());
      }
    }
    var d = client.apps().deployments().inNamespace(NS).withName("operator").get();
    if (d != null) {
      out.put("deployment/operator", d.getMetadata().getUid());
    }
    return out;
  }
}
