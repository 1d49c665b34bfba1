package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.kube.KubeApiServerExtension;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An upgrade from a release of the official chart (1.94.2, the stored fixture) to ours keeps the official operator's
 * pod until ours is ready: the Deployment (same name, same selector) is updated in place with our RollingUpdate
 * strategy, the real controller manager starts our pod next to the official one, and removes the official one only
 * when ours reports Ready. There is no kubelet here, so the test plays the kubelet's part of the pods' Ready
 * condition; everything else is the real API server and controller manager.
 */
@Tag("apiserver")
class UpgradeFromOfficialChartTest {

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension(b -> b.controllerManager(true));

  static final String NS = "tailscale-upgrade";

  @Test
  void theOfficialOperatorKeepsRunningUntilOursIsReady() {
    KubernetesClient client = KUBE.server().client();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    Release official = new Helm(OfficialChartCompatibilityTest.officialChart()).install().withName(Chart.RELEASE)
        .withNamespace(NS).withKubeConfig(KUBE.server().kubeconfig())
        .withValuesFile(Chart.valuesFile(ChartValuesTest.SEED_VALUES)).call();
    assertThat(official.getStatus()).isEqualTo("deployed");

    // The official operator runs: its pod exists and is Ready, the Deployment counts it as available.
    Pod officialPod = awaitPods(1).get(0);
    assertThat(image(officialPod)).isEqualTo("tailscale/k8s-operator:1.94.2");
    markReady(officialPod);
    await().atMost(Duration.ofSeconds(60)).until(() -> available(deployment()) == 1);

    // Upgrade the release to our chart, keeping the user's values (what the chart README says to do).
    Release ours = Chart.helm().upgrade().withName(Chart.RELEASE).withNamespace(NS)
        .withKubeConfig(KUBE.server().kubeconfig()).resetThenReuseValues().call();
    assertThat(ours.getStatus()).isEqualTo("deployed");

    // Signal that the Deployment controller has acted on the new spec: it observed the new generation and our pod
    // exists. Only then look at the official pod: it must still be there, not terminating.
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      Deployment d = deployment();
      return Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration())
          && pods().stream().anyMatch(p -> image(p).startsWith("ghcr.io/tailops/tailscale-operator:"));
    });
    Pod ourPod = pods().stream().filter(p -> image(p).startsWith("ghcr.io/tailops/tailscale-operator:"))
        .findFirst().orElseThrow();
    Pod stillThere = client.pods().inNamespace(NS).withName(officialPod.getMetadata().getName()).get();
    assertThat(stillThere).as("the official operator's pod, while ours is not ready").isNotNull();
    assertThat(stillThere.getMetadata().getDeletionTimestamp()).isNull();
    assertThat(available(deployment())).isEqualTo(1);
    assertThat(deployment().getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");

    // Ours becomes ready: now the official pod goes.
    markReady(ourPod);
    await().atMost(Duration.ofSeconds(60)).until(() ->
        client.pods().inNamespace(NS).withName(officialPod.getMetadata().getName()).get() == null);
    // The Deployment's status follows the pods' deletion a moment later (it read 2 available once): wait for the
    // controller to have counted again, then check it.
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Deployment done = deployment();
      assertThat(available(done)).isEqualTo(1);
      assertThat(done.getStatus().getUpdatedReplicas()).isEqualTo(1);
    });
    assertThat(pods()).extracting(p -> p.getMetadata().getName()).containsExactly(ourPod.getMetadata().getName());

    Helm.uninstall(Chart.RELEASE).withNamespace(NS).withKubeConfig(KUBE.server().kubeconfig()).call();
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static Deployment deployment() {
    return KUBE.server().client().apps().deployments().inNamespace(NS).withName("operator").get();
  }

  static int available(Deployment d) {
    return d.getStatus() == null || d.getStatus().getAvailableReplicas() == null ? 0
        : d.getStatus().getAvailableReplicas();
  }

  static List<Pod> pods() {
    return KUBE.server().client().pods().inNamespace(NS).withLabel("app", "operator").list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
  }

  static List<Pod> awaitPods(int n) {
    await().atMost(Duration.ofSeconds(60)).until(() -> pods().size() == n);
    return pods();
  }

  static String image(Pod p) {
    return p.getSpec().getContainers().get(0).getImage();
  }

  /** What the kubelet reports once the pod's containers run and its readiness probe passes. */
  static void markReady(Pod pod) {
    String now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    List<PodCondition> conditions = List.of("PodScheduled", "Initialized", "ContainersReady", "Ready").stream()
        .map(t -> new PodConditionBuilder().withType(t).withStatus("True").withLastTransitionTime(now).build())
        .toList();
    KUBE.server().client().pods().inNamespace(NS).withName(pod.getMetadata().getName()).editStatus(p -> {
      p.getStatus().setPhase("Running");
      p.getStatus().setConditions(conditions);
      p.getStatus().setStartTime(now);
      return p;
    });
  }
}
