package io.tailops.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Values that the official chart renders without complaint reach the operator as environment variables; the operator
 * must then run (with a warning saying what it did), never stop as misconfigured where the official operator runs.
 */
class OfficialChartValuesConfigTest {

  static Map<String, String> base() {
    Map<String, String> env = new HashMap<>();
    env.put("OPERATOR_NAMESPACE", "tailscale");
    env.put("CLIENT_ID_FILE", "/oauth/client_id");
    env.put("CLIENT_SECRET_FILE", "/oauth/client_secret");
    return env;
  }

  static OperatorConfig with(String name, String value) {
    Map<String, String> env = base();
    env.put(name, value);
    return OperatorConfig.fromEnv(env);
  }

  @Test
  void loggingWarnAndErrorAreLevels() {
    assertThat(with("OPERATOR_LOGGING", "warn").logging()).isEqualTo(OperatorConfig.LogMode.WARN);
    assertThat(with("OPERATOR_LOGGING", "error").logging()).isEqualTo(OperatorConfig.LogMode.ERROR);
    assertThat(with("OPERATOR_LOGGING", "warn").warnings()).isEmpty();
    assertThat(with("OPERATOR_LOGGING", "warn").logFormat()).isEqualTo(OperatorConfig.LogFormat.JSON);
  }

  @Test
  void anUnknownLoggingValueLogsAtInfoWithAWarning() {
    OperatorConfig c = with("OPERATOR_LOGGING", "verbose");
    assertThat(c.logging()).isEqualTo(OperatorConfig.LogMode.INFO);
    assertThat(c.logFormat()).isEqualTo(OperatorConfig.LogFormat.JSON);
    assertThat(c.warnings()).containsExactly("OPERATOR_LOGGING=verbose is not one of info, debug, dev, warn, error: "
        + "logging at info, as the official operator does for a value it does not know");
  }

  @Test
  void aLoginServerWithoutSchemeIsUsedOverHttpsWithAWarning() {
    OperatorConfig c = with("OPERATOR_LOGIN_SERVER", "headscale.example.com/");
    assertThat(c.loginServer()).isEqualTo("https://headscale.example.com");
    assertThat(c.warnings()).containsExactly("OPERATOR_LOGIN_SERVER=headscale.example.com has no scheme: using "
        + "https://headscale.example.com (set the full URL, e.g. https://headscale.example.com, to silence this "
        + "warning)");
    assertThat(with("OPERATOR_LOGIN_SERVER", "https://headscale.example.com").warnings()).isEmpty();
  }

  @Test
  void doctorReportsEachSettingWarning() {
    var checks = io.tailops.operator.doctor.Doctor.settings(with("OPERATOR_LOGGING", "verbose"));
    assertThat(checks).singleElement().satisfies(c -> {
      assertThat(c.name()).isEqualTo("settings");
      assertThat(c.status()).isEqualTo(io.tailops.operator.doctor.Doctor.Status.WARN);
      assertThat(c.detail()).startsWith("OPERATOR_LOGGING=verbose is not one of");
    });
    assertThat(io.tailops.operator.doctor.Doctor.settings(OperatorConfig.fromEnv(base()))).isEmpty();
  }

  @Test
  void anUnknownFirewallModeIsPassedOnWithAWarning() {
    OperatorConfig c = with("PROXY_FIREWALL_MODE", "legacy");
    assertThat(c.proxyFirewallMode()).isEqualTo("legacy");
    assertThat(c.warnings()).containsExactly("PROXY_FIREWALL_MODE=legacy is not auto, iptables or nftables: Services "
        + "and Ingresses get no proxy and say InvalidConfig until it is fixed (as with the official operator)");
    for (String ok : new String[] {"auto", "iptables", "nftables", ""}) {
      assertThat(with("PROXY_FIREWALL_MODE", ok).warnings()).as(ok).isEmpty();
    }
  }
}
