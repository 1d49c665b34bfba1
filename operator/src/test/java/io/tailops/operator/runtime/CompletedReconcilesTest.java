package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a completed reconcile proves: per controller, the newest version seen per object, and waiting for a version. */
class CompletedReconcilesTest {
  private final CompletedReconciles reconciles = new CompletedReconciles();

  CompletedReconcilesTest() {
    // As the operator registers them: the proxy controller gets every Service, the group controllers only the user's,
    // the DNS records controller only the operator's own.
    reconciles.register(new CompletedReconciles.Receiver("service", "Service", Set.of(), null, false));
    reconciles.register(new CompletedReconciles.Receiver("egress-group", "Service", Set.of(),
        "tailscale.com/managed!=true", false));
    reconciles.register(new CompletedReconciles.Receiver("dns-records", "Service", Set.of("tailscale"),
        "tailscale.com/managed=true", false));
    reconciles.register(new CompletedReconciles.Receiver("ingress", "Ingress", Set.of(), "", false));
    reconciles.register(new CompletedReconciles.Receiver("recorder", "Recorder", Set.of(), "", true));
  }

  private static HasMetadata service(String name, String version) {
    return new ServiceBuilder().withNewMetadata().withNamespace("ns").withName(name).withResourceVersion(version)
        .endMetadata().build();
  }

  private static Map<String, Object> by(String controller) {
    return Map.of(Constants.CONTROLLER_NAME, controller);
  }

  private Optional<String> awaitNow(HasMetadata o) throws InterruptedException {
    return reconciles.await(o, Duration.ZERO);
  }

  @Test
  void keepsTheNewestVersionPerObjectAndKind() {
    reconciles.finishedReconciliation(service("web", "17"), by("service"));
    reconciles.finishedReconciliation(service("web", "12"), by("service")); // a late one with an older copy
    reconciles.finishedReconciliation(new IngressBuilder().withNewMetadata().withNamespace("ns").withName("web")
        .withResourceVersion("30").endMetadata().build(), by("ingress"));
    assertThat(reconciles.newestVersion("Service", "ns", "web")).hasValue(17);
    assertThat(reconciles.newestVersion("Ingress", "ns", "web")).hasValue(30);
    assertThat(reconciles.newestVersion("Service", "ns", "other")).isEmpty();
    assertThat(reconciles.newestVersion("Service", "other", "web")).isEmpty();
  }

  @Test
  void aFailedReconcileProvesNothing() throws Exception {
    reconciles.failedReconciliation(service("web", "5"), new IllegalStateException("boom"), by("service"));
    reconciles.reconcileCustomResource(service("web", "5"), null, by("service"));
    assertThat(reconciles.newestVersion("Service", "ns", "web")).isEmpty();
    assertThat(awaitNow(service("web", "5"))).isPresent();
  }

  @Test
  void theQuickestControllerOfAKindDoesNotEndTheWait() throws Exception {
    reconciles.finishedReconciliation(service("web", "9"), by("egress-group"));
    assertThat(awaitNow(service("web", "9"))).hasValueSatisfying(why -> assertThat(why)
        .contains("service at none").doesNotContain("egress-group").doesNotContain("dns-records"));
    reconciles.finishedReconciliation(service("web", "9"), by("service"));
    assertThat(awaitNow(service("web", "9"))).isEmpty();
  }

  @Test
  void waitsOnlyForTheControllersWhoseInformerReceivesTheObject() throws Exception {
    HasMetadata proxyService = new ServiceBuilder().withNewMetadata().withNamespace("tailscale").withName("ts-web")
        .withResourceVersion("40").addToLabels("tailscale.com/managed", "true").endMetadata().build();
    assertThat(reconciles.receiversOf("Service", "tailscale", proxyService.getMetadata().getLabels()))
        .containsExactlyInAnyOrder("service", "dns-records");
    assertThat(reconciles.receiversOf("Service", "ns", Map.of())).containsExactlyInAnyOrder("service", "egress-group");
    reconciles.finishedReconciliation(proxyService, by("service"));
    reconciles.finishedReconciliation(proxyService, by("dns-records"));
    assertThat(awaitNow(proxyService)).isEmpty();
  }

  @Test
  void aGenerationAwareControllerIsDoneWithAChangeThatLeftTheGenerationAlone() throws Exception {
    var reconciled = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withKind("Recorder")
        .withNewMetadata().withName("rec").withResourceVersion("50").withGeneration(3L).endMetadata().build();
    reconciles.finishedReconciliation(reconciled, by("recorder"));
    var relabelled = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withKind("Recorder")
        .withNewMetadata().withName("rec").withResourceVersion("51").withGeneration(3L).endMetadata().build();
    assertThat(awaitNow(relabelled)).isEmpty();
    var changed = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withKind("Recorder")
        .withNewMetadata().withName("rec").withResourceVersion("52").withGeneration(4L).endMetadata().build();
    assertThat(awaitNow(changed)).isPresent();
  }

  @Test
  void anObjectNoControllerReceivesIsSaidAsSuch() throws Exception {
    HasMetadata secret = new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withNamespace("ns")
        .withName("s").withResourceVersion("3").endMetadata().build();
    assertThat(awaitNow(secret)).hasValueSatisfying(why -> assertThat(why).contains("no controller receives a Secret"));
  }

  @Test
  void awaitReturnsOnceTheVersionOrANewerOneIsReconciledByEachController() throws Exception {
    reconciles.finishedReconciliation(service("web", "9"), by("service"));
    reconciles.finishedReconciliation(service("web", "9"), by("egress-group"));
    assertThat(awaitNow(service("web", "9"))).isEmpty();
    assertThat(awaitNow(service("web", "8"))).isEmpty();
    assertThat(reconciles.await(service("web", "10"), Duration.ofMillis(50))).isPresent();

    CompletableFuture<Optional<String>> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return reconciles.await(service("web", "11"), Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    reconciles.finishedReconciliation(service("web", "10"), by("service"));
    reconciles.finishedReconciliation(service("web", "12"), by("service"));
    assertThat(waiting).isNotDone();
    reconciles.finishedReconciliation(service("web", "12"), by("egress-group"));
    assertThat(waiting.get(10, TimeUnit.SECONDS)).isEmpty();
  }

  @Test
  void versionsThatAreNotNumbersAreNotRecorded() {
    reconciles.finishedReconciliation(service("web", "abc"), by("service"));
    reconciles.finishedReconciliation(service("web", null), by("service"));
    assertThat(reconciles.newestVersion("Service", "ns", "web")).isEmpty();
    assertThat(CompletedReconciles.version("123")).isEqualTo(123);
    assertThat(CompletedReconciles.version("x")).isEqualTo(-1);
  }
}
