package io.tailops.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The security settings and the plain-HTTP login server rule. */
class SecuritySettingsTest {
  static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("OPERATOR_NAMESPACE", "tailscale", "CLIENT_ID_FILE", "/oauth/id",
        "CLIENT_SECRET_FILE", "/oauth/secret"));
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void defaults() {
    SecuritySettings s = OperatorConfig.fromEnv(env()).security();
    assertThat(s).isEqualTo(SecuritySettings.DEFAULTS);
    assertThat(s.adminPort()).isEqualTo(8082);
    assertThat(s.statusPage()).isEqualTo(SecuritySettings.StatusPageAccess.GRANT);
    assertThat(s.doctorMinInterval()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void settingsAreRead() {
    SecuritySettings s = OperatorConfig.fromEnv(env("OPERATOR_ADMIN_PORT", "9000", "OPERATOR_STATUS_PAGE", "off",
        "OPERATOR_DOCTOR_MIN_INTERVAL", "2m", "OPERATOR_AUTH_KEY_EXPIRY", "10m")).security();
    assertThat(s).isEqualTo(new SecuritySettings(9000, Duration.ofMinutes(2), SecuritySettings.StatusPageAccess.OFF,
        false, Duration.ofMinutes(10)));
    assertThat(OperatorConfig.fromEnv(env()).security().authKeyExpiry()).isEqualTo(Duration.ofMinutes(30));
  }

  @Test
  void badValuesNameTheVariable() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_STATUS_PAGE", "everyone")))
        .hasMessage("OPERATOR_STATUS_PAGE=everyone is not valid: use one of grant, tailnet, off");
    for (String expiry : new String[] {"30s", "91d"}) {
      assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_AUTH_KEY_EXPIRY", expiry)))
          .hasMessageStartingWith("OPERATOR_AUTH_KEY_EXPIRY=" + expiry + " is not valid: use a duration from 1m to 90d");
    }
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_LOGIN_SERVER_ALLOW_HTTP", "yes")))
        .hasMessage("OPERATOR_LOGIN_SERVER_ALLOW_HTTP=yes is not valid: use true or false");
  }

  @Test
  void aPlainHttpLoginServerOffLoopbackIsRefused() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_LOGIN_SERVER", "http://headscale.example.com:8080")))
        .hasMessageStartingWith("OPERATOR_LOGIN_SERVER=http://headscale.example.com:8080 is plain HTTP to a host that "
            + "is not this machine's loopback")
        .hasMessageContaining("OPERATOR_LOGIN_SERVER_ALLOW_HTTP=true (chart value loginServerAllowHttp: true)");
    for (String url : new String[] {"http://10.0.0.5", "HTTP://headscale.headscale.svc:8080", "http://128.0.0.1:80",
        "http://[fd7a::1]:8080", "http://localhost.example.com"}) {
      assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_LOGIN_SERVER", url))).as(url)
          .hasMessageContaining("is plain HTTP");
    }
  }

  @Test
  void loopbackHttpsAndExplicitlyAllowedServersAreAccepted() {
    for (String url : new String[] {"http://127.0.0.1:8080", "http://127.9.8.7", "http://localhost:8080",
        "http://[::1]:8080", "https://headscale.example.com", "headscale.example.com", ""}) {
      OperatorConfig c = OperatorConfig.fromEnv(env("OPERATOR_LOGIN_SERVER", url));
      assertThat(c.warnings()).as(url).noneMatch(w -> w.contains("plain HTTP"));
    }
    OperatorConfig allowed = OperatorConfig.fromEnv(env("OPERATOR_LOGIN_SERVER", "http://headscale.headscale.svc:8080",
        "OPERATOR_LOGIN_SERVER_ALLOW_HTTP", "true"));
    assertThat(allowed.loginServer()).isEqualTo("http://headscale.headscale.svc:8080");
    assertThat(allowed.security().loginServerAllowHttp()).isTrue();
    assertThat(allowed.warnings()).containsExactly("OPERATOR_LOGIN_SERVER=http://headscale.headscale.svc:8080 is plain "
        + "HTTP and OPERATOR_LOGIN_SERVER_ALLOW_HTTP=true: the operator's credentials and the auth keys it mints cross "
        + "the network in clear text");
  }
}
