package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chart's security values: the status page's audience on the tailnet, the plain-HTTP login server rule, and the
 * opt-in NetworkPolicy (docs/security.md).
 */
class ChartSecurityTest {
  static final String REFUSED = "is plain HTTP to a host that is not loopback: the operator refuses it";

  @Test
  void byDefaultTheStatusPageNeedsTheGrantAndTheOperatorCanAskWhoCalls() {
    Rendered r = Chart.render();
    assertThat(r.env()).containsEntry("OPERATOR_STATUS_PAGE", "grant")
        .containsEntry("OPERATOR_DEVICE_SOCKET", "/var/run/tailscale-device/tailscaled.sock")
        .doesNotContainKey("OPERATOR_LOGIN_SERVER_ALLOW_HTTP");
    assertThat(r.operatorContainer().getVolumeMounts()).filteredOn(m -> m.getName().equals("tailscale-tmp"))
        .singleElement().satisfies(m -> {
          assertThat(m.getMountPath()).isEqualTo("/var/run/tailscale-device");
          assertThat(m.getReadOnly()).isTrue();
        });
    assertThat(r.ofKind("NetworkPolicy")).isEmpty();
  }

  @Test
  void theStatusPageSettingReachesTheOperatorOnlyWithADevice() {
    assertThat(Chart.render("operatorConfig:\n  device:\n    statusPage: \"off\"\n").env())
        .containsEntry("OPERATOR_STATUS_PAGE", "off");
    Rendered none = Chart.render("operatorConfig:\n  device:\n    enabled: false\n");
    assertThat(none.envNames()).doesNotContain("OPERATOR_STATUS_PAGE", "OPERATOR_DEVICE_SOCKET");
    assertThat(none.operatorContainer().getVolumeMounts()).extracting(VolumeMount::getName)
        .doesNotContain("tailscale-tmp");
    assertThat(Chart.renderError("operatorConfig:\n  device:\n    statusPage: everyone\n"))
        .contains("statusPage");
  }

  @Test
  void aPlainHttpLoginServerOffLoopbackIsExplainedAndAllowedOnlyExplicitly() {
    assertThat(Chart.notes("loginServer: http://headscale.headscale.svc:8080\n"))
        .contains("loginServer http://headscale.headscale.svc:8080 " + REFUSED)
        .contains("set loginServerAllowHttp: true");
    for (String fine : new String[] {"https://headscale.example.com", "http://127.0.0.1:8080", "http://localhost"}) {
      assertThat(Chart.notes("loginServer: " + fine + "\n")).as(fine).doesNotContain("plain HTTP");
    }
    String allowed = "loginServer: http://headscale.headscale.svc:8080\nloginServerAllowHttp: true\n";
    assertThat(Chart.render(allowed).env()).containsEntry("OPERATOR_LOGIN_SERVER_ALLOW_HTTP", "true");
    assertThat(Chart.notes(allowed)).doesNotContain(REFUSED)
        .contains("is plain HTTP and loginServerAllowHttp is true: the operator's credentials and the auth keys it "
            + "mints cross the network in clear text");
  }

  @Test
  void theNetworkPolicyAdmitsOnlyTheMetricsScraperToTheMetricsPort() {
    Rendered r = Chart.render("""
        networkPolicy:
          enabled: true
          metricsFrom:
            - namespaceSelector:
                matchLabels:
                  kubernetes.io/metadata.name: monitoring
              podSelector:
                matchLabels:
                  app.kubernetes.io/name: prometheus
        """);
    NetworkPolicy np = r.get(NetworkPolicy.class, "operator");
    assertThat(np.getMetadata().getNamespace()).isEqualTo(Chart.NAMESPACE);
    assertThat(np.getSpec().getPodSelector().getMatchLabels()).isEqualTo(Map.of("app", "operator"));
    assertThat(np.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(np.getSpec().getIngress()).singleElement().satisfies(rule -> {
      assertThat(rule.getPorts()).singleElement().satisfies(p -> {
        assertThat(p.getPort().getStrVal()).isEqualTo("http");
        assertThat(p.getProtocol()).isEqualTo("TCP");
      });
      assertThat(rule.getFrom()).singleElement().satisfies(peer -> {
        assertThat(peer.getNamespaceSelector().getMatchLabels())
            .isEqualTo(Map.of("kubernetes.io/metadata.name", "monitoring"));
        assertThat(peer.getPodSelector().getMatchLabels()).isEqualTo(Map.of("app.kubernetes.io/name", "prometheus"));
      });
    });
    // The port named http is the operator container's metrics port; the admin port is not a container port at all.
    assertThat(r.operatorContainer().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getContainerPort()).isEqualTo(8080);
    });
  }

  @Test
  void aNetworkPolicyWithoutScraperAdmitsNothingAndSaysSo() {
    String values = "networkPolicy:\n  enabled: true\n";
    assertThat(Chart.render(values).get(NetworkPolicy.class, "operator").getSpec().getIngress()).isEmpty();
    assertThat(Chart.notes(values)).contains("networkPolicy.metricsFrom is empty: nothing may connect");
  }
}
