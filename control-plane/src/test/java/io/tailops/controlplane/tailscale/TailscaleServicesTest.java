package io.tailops.controlplane.tailscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.TailscaleService;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.RecordedRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tailscale Services (E4–E6) on the wire, against the fake API: the object's JSON, ':' unescaped in the path, the
 * addresses allocated on create and required back on update, annotations kept byte for byte, 404 as absent.
 */
class TailscaleServicesTest extends ClientFixture {
  static final String OWNERS = "{\"ownerRefs\":[{\"operatorID\":\"nOpr123CNTRL\"}]}";

  static TailscaleService web(List<String> addrs) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("tailscale.com/owner-references", OWNERS);
    return new TailscaleService("svc:web", addrs, "managed by the operator", annotations, List.of("tcp:443", "tcp:80"),
        List.of("tag:k8s"));
  }

  @Test
  void aServiceIsCreatedReadUpdatedAndDeleted() throws Exception {
    TailscaleApiClient client = client();
    assertThat(client.getService("svc:web")).isEmpty();

    client.putService(web(List.of()));
    RecordedRequest put = fake.requests(Endpoint.PUT_SERVICE).get(0);
    assertThat(put.path()).isEqualTo("/api/v2/tailnet/-/vip-services/svc:web");
    assertThat(put.body()).isEqualTo("{\"name\":\"svc:web\",\"comment\":\"managed by the operator\",\"annotations\":"
        + "{\"tailscale.com/owner-references\":\"{\\\"ownerRefs\\\":[{\\\"operatorID\\\":\\\"nOpr123CNTRL\\\"}]}\"},"
        + "\"ports\":[\"tcp:443\",\"tcp:80\"],\"tags\":[\"tag:k8s\"]}");

    TailscaleService got = client.getService("svc:web").orElseThrow();
    assertThat(got.addrs()).hasSize(2);
    assertThat(got.ipv4()).startsWith("100.100.");
    assertThat(got.ipv6()).startsWith("fd7a:115c:a1e0::");
    assertThat(got.annotations()).containsExactly(Map.entry("tailscale.com/owner-references", OWNERS));
    assertThat(got.dnsLabel()).isEqualTo("web");

    // An update without the allocated addresses is refused, as by the real API; with them it replaces the service.
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> client.putService(web(List.of()).withAnnotations(Map.of())));
    assertThat(e.status()).isEqualTo(400);
    client.putService(new TailscaleService("svc:web", got.addrs(), "", Map.of(), List.of("do-not-validate"),
        List.of("tag:k8s")));
    TailscaleService replaced = client.getService("svc:web").orElseThrow();
    assertThat(replaced.ports()).containsExactly("do-not-validate");
    assertThat(replaced.annotations()).isEmpty();
    assertThat(replaced.addrs()).isEqualTo(got.addrs());

    assertThat(client.deleteService("svc:web")).isTrue();
    assertThat(client.deleteService("svc:web")).isFalse();
    assertThat(fake.service("svc:web")).isEmpty();
  }

  @Test
  void anInvalidNameIsABadRequest() {
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> client().putService(new TailscaleService("svc:Not_A_Label", List.of(), "", Map.of(), List.of(),
            List.of())));
    assertThat(e.kind()).isEqualTo(ControlPlaneException.Kind.BAD_REQUEST);
  }

  @Test
  void withoutTheServicesScopeTheCallIsForbidden() {
    fake.removeOAuthClient(oauth.id());
    oauth = fake.addOAuthClient(List.of("auth_keys", "devices:core"), List.of("tag:k8s-operator"));
    writeCredentials(oauth);
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> client().getService("svc:web"));
    assertThat(e.kind()).isEqualTo(ControlPlaneException.Kind.FORBIDDEN);
  }
}
