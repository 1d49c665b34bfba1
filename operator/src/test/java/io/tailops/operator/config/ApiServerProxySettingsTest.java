package io.tailops.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** APISERVER_PROXY and the deprecated AUTH_PROXY, read as upstream's parseAPIProxyMode reads them. */
class ApiServerProxySettingsTest {
  static OperatorConfig config(String... kv) {
    Map<String, String> env = new HashMap<>(Map.of("OPERATOR_NAMESPACE", "tailscale", "CLIENT_ID_FILE", "/o/id",
        "CLIENT_SECRET_FILE", "/o/secret", "OPERATOR_SELF_DEVICE", "true"));
    for (int i = 0; i < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    return OperatorConfig.fromEnv(env);
  }

  @Test
  void modes() {
    assertThat(config().apiServerProxy()).isEqualTo(ApiServerProxySettings.OFF);
    assertThat(config("APISERVER_PROXY", "false").apiServerProxy().mode()).isEqualTo(ApiServerProxySettings.Mode.OFF);
    assertThat(config("APISERVER_PROXY", "true").apiServerProxy().mode()).isEqualTo(ApiServerProxySettings.Mode.AUTH);
    assertThat(config("APISERVER_PROXY", "noauth").apiServerProxy().mode())
        .isEqualTo(ApiServerProxySettings.Mode.NOAUTH);
    assertThat(config("AUTH_PROXY", "true").apiServerProxy().mode()).isEqualTo(ApiServerProxySettings.Mode.AUTH);
    assertThat(config("AUTH_PROXY", "true").warnings()).contains("AUTH_PROXY is deprecated: use APISERVER_PROXY=true "
        + "(auth mode) or APISERVER_PROXY=noauth");
    assertThat(config("AUTH_PROXY", "false").apiServerProxy().mode()).isEqualTo(ApiServerProxySettings.Mode.OFF);
  }

  @Test
  void portAndSocket() {
    ApiServerProxySettings s = config("APISERVER_PROXY", "true", "OPERATOR_APISERVER_PROXY_PORT", "0",
        "OPERATOR_DEVICE_SOCKET", "/run/ts.sock").apiServerProxy();
    assertThat(s.port()).isZero();
    assertThat(s.deviceSocket()).isEqualTo(Path.of("/run/ts.sock"));
    assertThat(config("APISERVER_PROXY", "true").apiServerProxy().port()).isEqualTo(8081);
  }

  @Test
  void badValuesAreNamed() {
    assertThatThrownBy(() -> config("APISERVER_PROXY", "true", "AUTH_PROXY", "true"))
        .hasMessageContaining("AUTH_PROXY (deprecated) and APISERVER_PROXY are mutually exclusive: unset AUTH_PROXY");
    assertThatThrownBy(() -> config("AUTH_PROXY", "yes")).hasMessageContaining("AUTH_PROXY=yes is not valid: use true "
        + "or false");
    assertThatThrownBy(() -> config("OPERATOR_APISERVER_PROXY_PORT", "70000")).hasMessageContaining(
        "OPERATOR_APISERVER_PROXY_PORT=70000 is not valid: use a whole number from 0 to 65535");
  }

  @Test
  void withoutTheOperatorsDeviceTheProxyStaysOffAndSaysWhy() {
    assertThat(config("APISERVER_PROXY", "noauth", "OPERATOR_SELF_DEVICE", "false").warnings()).contains(
        "APISERVER_PROXY=noauth needs the operator's own tailnet device (OPERATOR_SELF_DEVICE=true; chart value "
            + "operatorConfig.device.enabled: true): the API server proxy stays off");
  }
}
