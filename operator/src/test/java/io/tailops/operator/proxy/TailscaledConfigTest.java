package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TailscaledConfigTest {

  @Test
  void cap107MatchesTheOfficialOutputByteForByte() {
    var files = new TailscaledConfig(null, "tskey-auth-XXXX", "default-web", false).files();
    assertThat(files.get(TailscaledConfig.CAP_107)).isEqualTo("{\"Version\":\"alpha0\",\"Locked\":false,"
        + "\"AuthKey\":\"tskey-auth-XXXX\",\"Hostname\":\"default-web\",\"acceptDNS\":false,\"acceptRoutes\":false,"
        + "\"AppConnector\":{\"Advertise\":false},\"NoStatefulFiltering\":true}");
  }

  @Test
  void cap95HasNoAppConnector() {
    var files = new TailscaledConfig(null, null, "web", true).files();
    assertThat(files.get(TailscaledConfig.CAP_95)).isEqualTo("{\"Version\":\"alpha0\",\"Locked\":false,"
        + "\"Hostname\":\"web\",\"acceptDNS\":false,\"acceptRoutes\":true,\"NoStatefulFiltering\":true}");
  }

  @Test
  void serverUrlComesBeforeTheAuthKey() {
    String json = new TailscaledConfig("http://127.0.0.1:8080", "k", "h", false).render(true);
    assertThat(json).startsWith("{\"Version\":\"alpha0\",\"Locked\":false,\"ServerURL\":\"http://127.0.0.1:8080\","
        + "\"AuthKey\":\"k\",\"Hostname\":\"h\"");
  }

  @Test
  void readsBackTheAuthKeyAndHostname() {
    String json = new TailscaledConfig(null, "tskey-auth-1", "a", false).render(true);
    assertThat(TailscaledConfig.authKeyOf(json)).isEqualTo("tskey-auth-1");
    assertThat(TailscaledConfig.hostnameOf(json)).isEqualTo("a");
    assertThat(TailscaledConfig.authKeyOf(new TailscaledConfig(null, null, "a", false).render(true))).isNull();
    assertThat(TailscaledConfig.authKeyOf("not json")).isNull();
  }
}
