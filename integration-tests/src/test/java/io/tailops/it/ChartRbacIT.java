package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.kube.AuditEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator runs with exactly the Helm chart's RBAC in every integration test ({@link OperatorEnvironment},
 * {@link NoDeniedRequests}); this class shows that it really does, and walks the event recorder through the paths that
 * need more than {@code create} on Events: a repeated event is counted (read, then patched) and, after a restart, an
 * identical earlier event is found (listed) and adopted instead of recorded twice. Under the chart's former grants
 * (events: create, patch) both calls were denied, and the recorder only logged it.
 */
class ChartRbacIT {
  static OperatorEnvironment env;
  static final String NS = "rbac";
  static final String OPERATOR_ACCOUNT = "system:serviceaccount:" + OperatorEnvironment.NAMESPACE + ":operator";

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.createNamespace(NS);
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static Service get(String name) {
    return env.client().services().inNamespace(NS).withName(name).get();
  }

  static Service hostname(String name, String hostname) {
    return env.client().services().inNamespace(NS).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"annotations\":{\"tailscale.com/hostname\":\"" + hostname + "\"}}}");
  }

  static void awaitReason(String name, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(get(name))
        .filter(c -> reason.equals(c.getReason())).isPresent());
  }

  static List<Event> events(HasMetadata obj, String reason) {
    return env.events(obj).stream().filter(e -> reason.equals(e.getReason())).toList();
  }

  @Test
  void theOperatorsRequestsAreMadeAsTheChartsServiceAccount() {
    assertThat(env.rbac().objects()).extracting(o -> o.getKind() + " " + o.getMetadata().getName())
        .contains("ServiceAccount operator", "ClusterRole tailscale-operator", "Role operator", "ServiceAccount proxies",
            "Role proxies");
    var mark = env.mark();
    env.client().resource(clusterIp(NS, "who", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "rbac-who"))).create();
    awaitReason("who", "ProxyCreated");
    List<AuditEvent> requests = env.operatorRequestsSince(mark).list();
    assertThat(requests).isNotEmpty();
    assertThat(requests).extracting(AuditEvent::username).containsOnly(OPERATOR_ACCOUNT);
    assertThat(env.operatorRequestsSince(mark).writes().list()).extracting(AuditEvent::resource)
        .contains("statefulsets", "secrets", "services", "events");
  }

  @Test
  void aRepeatedEventIsCountedAndAfterARestartAnIdenticalEventIsAdopted() {
    env.client().resource(clusterIp(NS, "flip", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "not_valid"))).create();
    awaitReason("flip", "ProxyInvalid");
    await().atMost(Duration.ofSeconds(20)).until(() -> events(get("flip"), "INVALIDSERVICE").size() == 1);

    // fixed, then broken again the same way: the same event, counted (GET and PATCH of the event)
    hostname("flip", "rbac-flip");
    awaitReason("flip", "ProxyCreated");
    hostname("flip", "not_valid");
    awaitReason("flip", "ProxyInvalid");
    await().atMost(Duration.ofSeconds(20)).until(() -> events(get("flip"), "INVALIDSERVICE").stream()
        .anyMatch(e -> e.getCount() == 2));
    assertThat(events(get("flip"), "INVALIDSERVICE")).hasSize(1);

    // A new operator instance remembers nothing: the same events again are found (LIST) and adopted, not duplicated.
    env.stopOperator();
    env.startOperator();
    env.awaitReconciled(hostname("flip", "rbac-flip"));
    awaitReason("flip", "ProxyCreated");
    env.awaitReconciled(hostname("flip", "not_valid"));
    awaitReason("flip", "ProxyInvalid");
    env.awaitCurrentVersionsReconciled(get("flip"));
    assertThat(events(get("flip"), "INVALIDSERVICE")).singleElement()
        .satisfies(e -> assertThat(e.getCount()).isEqualTo(2));
    assertThat(events(get("flip"), "ProxyReady")).hasSize(1);
    assertThat(env.deniedRequests()).isEmpty();
  }
}
