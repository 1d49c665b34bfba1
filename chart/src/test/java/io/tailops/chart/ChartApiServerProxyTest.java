package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The chart's side of the Kubernetes API server proxy: the impersonation RBAC is rendered exactly when, and exactly as,
 * the official chart v1.94.2 renders it (rendered by the same Helm from test resources), and the operator
 * container reaches the device's LocalAPI socket only when the proxy can run.
 */
class ChartApiServerProxyTest {
  static final List<String> RBAC = List.of("ServiceAccount/kube-apiserver-auth-proxy",
      "ClusterRole/tailscale-auth-proxy", "ClusterRoleBinding/tailscale-auth-proxy");

  /** The RBAC objects of the proxy in a rendering, by kind/name, as rendered (minus our chart's common labels). */
  static Map<String, JsonNode> rbac(List<JsonNode> docs) {
    Map<String, JsonNode> out = new TreeMap<>();
    for (JsonNode d : docs) {
      String id = d.path("kind").asText() + "/" + d.path("metadata").path("name").asText();
      if (RBAC.contains(id)) {
        com.fasterxml.jackson.databind.node.ObjectNode copy = d.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) copy.path("metadata")).remove("labels");
        out.put(id, copy);
      }
    }
    return out;
  }

  @Test
  void impersonationRbacIsRenderedExactlyWhenAndAsTheOfficialChartRendersIt() {
    String[] modes = {"\"true\"", "\"false\"", "\"noauth\"", "true", "false", "\"\""};
    String[] impersonation = {"\"true\"", "\"false\"", "true", "false"};
    int rendered = 0;
    for (String mode : modes) {
      for (String imp : impersonation) {
        String values = "apiServerProxyConfig:\n  mode: " + mode + "\n  allowImpersonation: " + imp + "\n";
        if (mode.equals("\"\"")) {
          values = "apiServerProxyConfig:\n  allowImpersonation: " + imp + "\n";
        }
        Map<String, JsonNode> expected = rbac(OfficialChartCompatibilityTest.renderOfficial(values).raw());
        Map<String, JsonNode> ours = rbac(Chart.render(values).raw());
        assertThat(ours).as("RBAC for mode %s, allowImpersonation %s", mode, imp).isEqualTo(expected);
        if (!expected.isEmpty()) {
          rendered++;
        }
      }
    }
    assertThat(rendered).as("combinations that render the RBAC").isEqualTo(16);
  }

  @Test
  void authModeLetsTheOperatorImpersonateUsersAndGroupsOnly() {
    Rendered r = Chart.render("apiServerProxyConfig:\n  mode: \"true\"\n");
    assertThat(Rbac.permissions(r.clusterRoleRules("tailscale-auth-proxy")))
        .containsExactly("core/groups:impersonate", "core/users:impersonate");
    JsonNode binding = r.rawOf("ClusterRoleBinding", "tailscale-auth-proxy");
    assertThat(binding.path("subjects").toString()).contains("\"name\":\"operator\"")
        .contains("\"name\":\"kube-apiserver-auth-proxy\"");
    // noauth: the caller's own credentials, so no impersonation for the operator
    assertThat(Chart.render("apiServerProxyConfig:\n  mode: noauth\n").ids())
        .noneMatch(id -> id.contains("auth-proxy"));
  }

  @Test
  void theOperatorReachesTheDeviceSocketWhenItHasADevice() {
    for (String mode : new String[] {"\"true\"", "noauth"}) {
      Rendered r = Chart.render("apiServerProxyConfig:\n  mode: " + mode + "\n");
      assertThat(r.env()).containsEntry("APISERVER_PROXY", mode.replace("\"", ""))
          .containsEntry("OPERATOR_DEVICE_SOCKET", "/var/run/tailscale-device/tailscaled.sock");
      Container op = r.operatorContainer();
      assertThat(op.getVolumeMounts()).anySatisfy(m -> {
        assertThat(m.getName()).isEqualTo("tailscale-tmp");
        assertThat(m.getMountPath()).isEqualTo("/var/run/tailscale-device");
        assertThat(m.getReadOnly()).isTrue();
      });
      // the tailscale container keeps its socket at containerboot's default, /tmp/tailscaled.sock
      assertThat(r.container("tailscale").getVolumeMounts()).anySatisfy(m -> {
        assertThat(m.getName()).isEqualTo("tailscale-tmp");
        assertThat(m.getMountPath()).isEqualTo("/tmp");
      });
    }
    // Without a device there is no socket to ask (with a device, the status page asks it too: ChartSecurityTest).
    for (String values : new String[] {"apiServerProxyConfig:\n  mode: \"true\"\noperatorConfig:\n  device:\n"
        + "    enabled: false\n"}) {
      Rendered r = Chart.render(values);
      assertThat(r.env()).doesNotContainKey("OPERATOR_DEVICE_SOCKET");
      assertThat(r.operatorContainer().getVolumeMounts()).noneMatch(m -> m.getName().equals("tailscale-tmp"));
    }
    assertThat(Chart.notes("apiServerProxyConfig:\n  mode: \"true\"\noperatorConfig:\n  device:\n    enabled: false\n"))
        .contains("apiServerProxyConfig.mode is \"true\", but operatorConfig.device.enabled is false");
    assertThat(Chart.notes("apiServerProxyConfig:\n  mode: \"true\"\n")).doesNotContain("apiServerProxyConfig");
  }
}
