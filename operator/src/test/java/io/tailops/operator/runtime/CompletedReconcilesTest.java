package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a completed reconcile proves: the newest version seen per object, and waiting for a version. */
class CompletedReconcilesTest {
  private final CompletedReconciles reconciles = new CompletedReconciles();

  private static HasMetadata service(String name, String version) {
    return new ServiceBuilder().withNewMetadata().withNamespace("ns").withName(name).withResourceVersion(version)
        .endMetadata().build();
  }

  @Test
  void keepsTheNewestVersionPerObjectAndKind() {
    reconciles.finishedReconciliation(service("web", "17"), Map.of());
    reconciles.finishedReconciliation(service("web", "12"), Map.of()); // a late one with an older copy
    reconciles.finishedReconciliation(new IngressBuilder().withNewMetadata().withNamespace("ns").withName("web")
        .withResourceVersion("30").endMetadata().build(), Map.of());
    assertThat(reconciles.newestVersion("Service", "ns", "web")).hasValue(17);
    assertThat(reconciles.newestVersion("Ingress", "ns", "web")).hasValue(30);
    assertThat(reconciles.newestVersion("Service", "ns", "other")).isEmpty();
    assertThat(reconciles.newestVersion("Service", "other", "web")).isEmpty();
  }

  @Test
  void aFailedReconcileProvesNothing() {
    reconciles.failedReconciliation(service("web", "5"), new IllegalStateException("boom"), Map.of());
    reconciles.reconcileCustomResource(service("web", "5"), null, Map.of());
    assertThat(reconciles.newestVersion("Service", "ns", "web")).isEmpty();
  }

  @Test
  void awaitReturnsOnceTheVersionOrANewerOneIsReconciled() throws Exception {
    reconciles.finishedReconciliation(service("web", "9"), Map.of());
    assertThat(reconciles.await("Service", "ns", "web", 9, Duration.ZERO)).isTrue();
    assertThat(reconciles.await("Service", "ns", "web", 8, Duration.ZERO)).isTrue();
    assertThat(reconciles.await("Service", "ns", "web", 10, Duration.ofMillis(50))).isFalse();

    CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return reconciles.await("Service", "ns", "web", 11, Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    reconciles.finishedReconciliation(service("web", "10"), Map.of());
    assertThat(waiting).isNotDone();
    reconciles.finishedReconciliation(service("web", "12"), Map.of());
    assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void versionsThatAreNotNumbersAreNotRecorded() {
    reconciles.finishedReconciliation(service("web", "abc"), Map.of());
    reconciles.finishedReconciliation(service("web", null), Map.of());
    assertThat(reconciles.newestVersion("Service", "ns", "web")).isEmpty();
    assertThat(CompletedReconciles.version("123")).isEqualTo(123);
    assertThat(CompletedReconciles.version("x")).isEqualTo(-1);
  }
}
