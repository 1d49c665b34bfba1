package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.StandardHttpRequest;
import io.tailops.controlplane.CrashPoints;
import org.junit.jupiter.api.Test;

/**
 * The test-only crash-point hook names each Kubernetes write by verb and resource, leaves reads, Leases and Events
 * alone, and is off (not even installed) unless a test turns it on.
 */
class CrashPointInterceptorTest {
  private static HttpRequest request(String method, String uri) {
    StandardHttpRequest.Builder b = new StandardHttpRequest.Builder();
    b.uri(uri);
    if (!method.equals("GET")) {
      b.method(method, "application/json", "{}");
    }
    return b.build();
  }

  @Test
  void writesAreNamedByVerbAndResource() {
    String base = "https://k8s:6443";
    assertThat(CrashPointInterceptor.point(request("POST", base + "/apis/apps/v1/namespaces/tailscale/statefulsets")))
        .isEqualTo("create statefulsets");
    assertThat(CrashPointInterceptor.point(request("PATCH", base + "/api/v1/namespaces/tailscale/secrets/ts-web-1")))
        .isEqualTo("patch secrets");
    assertThat(CrashPointInterceptor.point(request("PUT", base + "/api/v1/namespaces/default/services/web/status")))
        .isEqualTo("update services/status");
    assertThat(CrashPointInterceptor.point(request("DELETE", base + "/api/v1/namespaces/tailscale/services/ts-web")))
        .isEqualTo("delete services");
  }

  @Test
  void readsLeasesAndEventsAreNotCrashPoints() {
    String base = "https://k8s:6443";
    assertThat(CrashPointInterceptor.point(request("GET", base + "/api/v1/namespaces/tailscale/secrets/ts-web-1")))
        .isNull();
    assertThat(CrashPointInterceptor.point(request("GET", base + "/api/v1/secrets?watch=true"))).isNull();
    assertThat(CrashPointInterceptor.point(request("PUT",
        base + "/apis/coordination.k8s.io/v1/namespaces/tailscale/leases/tailscale-operator"))).isNull();
    assertThat(CrashPointInterceptor.point(request("POST", base + "/api/v1/namespaces/default/events"))).isNull();
  }

  @Test
  void offUnlessATestTurnsItOn() {
    // Unit tests run without TSOP_TEST_CRASH_POINTS, as production does: the hook is a false constant.
    assertThat(System.getenv(CrashPoints.ENV)).isNull();
    assertThat(CrashPoints.ENABLED).isFalse();
  }
}
