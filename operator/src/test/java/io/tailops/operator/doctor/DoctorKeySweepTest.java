package io.tailops.operator.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.config.OperatorConfig;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * On a control plane whose keys keep no description (headscale) the unused-key sweep cannot recognise this operator's
 * keys and revokes none: doctor says so, with the reason, instead of the feature doing nothing silently.
 */
class DoctorKeySweepTest {
  static final ControlPlane.Capabilities HEADSCALE = new ControlPlane.Capabilities("headscale", false, false, true,
      false, false);

  /** A control plane that accepts the credentials, lists no devices and cannot read the policy. */
  static ControlPlane controlPlane(ControlPlane.Capabilities caps) {
    return (ControlPlane) Proxy.newProxyInstance(ControlPlane.class.getClassLoader(),
        new Class<?>[] {ControlPlane.class}, (proxy, method, args) -> switch (method.getName()) {
          case "capabilities" -> caps;
          case "checkCredentials" -> null;
          case "listDevices" -> List.of();
          case "readPolicy" -> throw new ControlPlaneException(ControlPlaneException.Kind.UNSUPPORTED, 404, null,
              "no policy");
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  static OperatorConfig config(String controlPlane) {
    return OperatorConfig.fromEnv(Map.of("OPERATOR_NAMESPACE", "tailscale", "CLIENT_ID_FILE", "/oauth/id",
        "CLIENT_SECRET_FILE", "/oauth/secret", "OPERATOR_CONTROL_PLANE", controlPlane, "OPERATOR_LOGIN_SERVER",
        "https://hs.example.com", "HEADSCALE_API_KEY_FILE", "/headscale/key"));
  }

  @Test
  void onHeadscaleDoctorWarnsThatTheKeySweepRevokesNothingAndWhy() {
    List<Doctor.Check> checks = new Doctor(config("headscale"), null, controlPlane(HEADSCALE), false).run();
    String text = Doctor.text(checks);
    assertThat(text).contains("warn key sweep: off: headscale keeps no description with an auth key, so the keys "
        + "this operator minted cannot be told from anybody else's: the unused-key sweep revokes none, and a key lost "
        + "between its mint and its Secret (an operator crash) stays valid until it expires "
        + "(OPERATOR_AUTH_KEY_EXPIRY)\n     fix: nothing the operator can do; keep OPERATOR_AUTH_KEY_EXPIRY short");
    assertThat(Doctor.failed(checks)).as("a warning, not a failure").isFalse();
    assertThat(Doctor.json(checks)).contains("\"name\" : \"key sweep\"").contains("\"status\" : \"warn\"");
  }

  @Test
  void whereKeysKeepTheirDescriptionsThereIsNoKeySweepLine() {
    List<Doctor.Check> checks = new Doctor(config("tailscale"), null,
        controlPlane(ControlPlane.Capabilities.tailscale()), false).run();
    assertThat(checks).extracting(Doctor.Check::name).doesNotContain("key sweep");
  }
}
