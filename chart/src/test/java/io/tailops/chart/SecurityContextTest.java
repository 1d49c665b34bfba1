package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * {@code operatorConfig.securityContext} (and {@code operatorConfig.device.securityContext}) are merged into the
 * restricted default instead of replacing it: a values file written for the official chart that sets, say, a user ID
 * keeps the read-only root, dropped capabilities and seccomp profile.
 */
class SecurityContextTest {

  static JsonNode operator(String values) {
    return container(values, "operator");
  }

  static JsonNode container(String values, String name) {
    for (JsonNode c : Chart.render(values).rawOf("Deployment", "operator").path("spec").path("template").path("spec")
        .path("containers")) {
      if (name.equals(c.path("name").asText())) {
        return c.path("securityContext");
      }
    }
    throw new AssertionError("no container " + name);
  }

  @Test
  void theDefaultIsTheRestrictedOne() {
    assertThat(operator("")).isEqualTo(Chart.yaml("""
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
        seccompProfile: {type: RuntimeDefault}
        """));
  }

  @Test
  void userKeysReplaceTheDefaultsOnesAndTheRestStays() {
    JsonNode sc = operator("operatorConfig:\n  securityContext: {runAsUser: 1000, runAsGroup: 1000}\n");
    assertThat(sc.path("runAsUser").asInt()).isEqualTo(1000);
    assertThat(sc.path("runAsGroup").asInt()).isEqualTo(1000);
    assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(sc.path("allowPrivilegeEscalation").asBoolean()).isFalse();
    assertThat(sc.path("capabilities").path("drop").toString()).isEqualTo("[\"ALL\"]");
    assertThat(sc.path("seccompProfile").path("type").asText()).isEqualTo("RuntimeDefault");
  }

  @Test
  void falseIsAValueNotAnAbsence() {
    JsonNode sc = operator("operatorConfig:\n  securityContext: {readOnlyRootFilesystem: false}\n");
    assertThat(sc.path("readOnlyRootFilesystem").isBoolean()).isTrue();
    assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isFalse();
    assertThat(sc.path("runAsNonRoot").asBoolean()).isTrue();
  }

  @Test
  void mapsAreMergedKeyByKeyAndNullLeavesAKeyOut() {
    JsonNode sc = operator("""
        operatorConfig:
          securityContext:
            capabilities: {add: [NET_BIND_SERVICE]}
            seccompProfile: {type: Localhost, localhostProfile: profiles/operator.json}
            runAsUser: null
        """);
    assertThat(sc.path("capabilities").path("drop").toString()).isEqualTo("[\"ALL\"]");
    assertThat(sc.path("capabilities").path("add").toString()).isEqualTo("[\"NET_BIND_SERVICE\"]");
    assertThat(sc.path("seccompProfile").path("type").asText()).isEqualTo("Localhost");
    assertThat(sc.path("seccompProfile").path("localhostProfile").asText()).isEqualTo("profiles/operator.json");
    assertThat(sc.has("runAsUser")).as("runAsUser: null leaves it out").isFalse();
    assertThat(sc.path("runAsNonRoot").asBoolean()).isTrue();
  }

  @Test
  void privilegedDropsTheDefaultNoEscalationTheApiServerWouldRefuseWithIt() {
    JsonNode sc = operator("operatorConfig:\n  securityContext: {privileged: true}\n");
    assertThat(sc.path("privileged").asBoolean()).isTrue();
    assertThat(sc.has("allowPrivilegeEscalation")).isFalse();
    assertThat(sc.path("capabilities").path("drop").toString()).isEqualTo("[\"ALL\"]");
  }

  @Test
  void theDeviceContainerMergesTheSameWay() {
    JsonNode sc = container("operatorConfig:\n  device:\n    securityContext: {runAsUser: 2000}\n", "tailscale");
    assertThat(sc.path("runAsUser").asInt()).isEqualTo(2000);
    assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(operator("operatorConfig:\n  device:\n    securityContext: {runAsUser: 2000}\n")
        .path("runAsUser").asInt()).isEqualTo(65532);
  }
}
