package io.tailops.operator.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DnsRecordsTest {

  @Test
  void writesWhatGosEncoderWrites() {
    // json.Marshal(Records{Version: "v1alpha1", IP4: map[string][]string{}}) as upstream starts
    assertThat(DnsRecords.empty().toJson()).isEqualTo("{\"version\":\"v1alpha1\",\"ip4\":{}}");
    DnsRecords r = DnsRecords.empty().with("web.tailnet-abc.ts.net", List.of("10.244.0.7"), List.of())
        .with("db.tailnet-abc.ts.net.", List.of("10.244.0.9", "10.244.0.8"), List.of("fd00::9"));
    assertThat(r.toJson()).isEqualTo("{\"version\":\"v1alpha1\",\"ip4\":{\"db.tailnet-abc.ts.net.\":[\"10.244.0.8\","
        + "\"10.244.0.9\"],\"web.tailnet-abc.ts.net\":[\"10.244.0.7\"]},\"ip6\":{\"db.tailnet-abc.ts.net.\":"
        + "[\"fd00::9\"]}}");
  }

  @Test
  void readsWhatUpstreamWroteAndKeepsOtherWritersRecords() throws IOException {
    DnsRecords r = DnsRecords.parse("{\"version\":\"v1alpha1\",\"ip4\":{\"foo.ts.net\":[\"1.2.3.4\"]}}");
    assertThat(r.ip4()).containsEntry("foo.ts.net", List.of("1.2.3.4"));
    assertThat(r.ip6()).isEmpty();
    DnsRecords withOurs = r.with("db.tailnet-abc.ts.net", List.of("10.0.0.1"), List.of());
    assertThat(withOurs.ip4()).containsKeys("foo.ts.net", "db.tailnet-abc.ts.net");
    assertThat(withOurs.without("db.tailnet-abc.ts.net")).isEqualTo(r);
    assertThat(DnsRecords.parse(null)).isEqualTo(DnsRecords.empty());
    assertThat(DnsRecords.parse("")).isEqualTo(DnsRecords.empty());
  }

  @Test
  void aFamilyWithoutAddressesLosesItsEntry() {
    DnsRecords both = DnsRecords.empty().with("db.t.ts.net", List.of("10.0.0.1"), List.of("fd00::1"));
    DnsRecords v4only = both.with("db.t.ts.net", List.of("10.0.0.1"), List.of());
    assertThat(v4only.ip6()).isEmpty();
    assertThat(v4only.toJson()).isEqualTo("{\"version\":\"v1alpha1\",\"ip4\":{\"db.t.ts.net\":[\"10.0.0.1\"]}}");
    assertThat(both.without("db.t.ts.net").toJson()).isEqualTo("{\"version\":\"v1alpha1\",\"ip4\":{}}");
    assertThat(both.addresses("db.t.ts.net")).containsExactly("10.0.0.1", "fd00::1");
  }

  @Test
  void nullFamiliesAndTheVersionAreKeptAsFound() throws IOException {
    DnsRecords r = DnsRecords.parse("{\"version\":\"v1alpha1\",\"ip4\":null,\"other\":1}");
    assertThat(r.toJson()).isEqualTo("{\"version\":\"v1alpha1\",\"ip4\":null}");
    assertThat(r.with("a.b.ts.net", List.of("10.0.0.1"), List.of()).ip4()).isEqualTo(Map.of("a.b.ts.net",
        List.of("10.0.0.1")));
  }

  @Test
  void escapesAsGoDoes() {
    assertThat(DnsRecords.goString("a<b>&\"\\\n\u0001\u2028")).isEqualTo("\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n"
        + "\\u0001\\u2028\"");
  }

  @Test
  void refusesWhatIsNotAnObject() {
    assertThatThrownBy(() -> DnsRecords.parse("[1]")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> DnsRecords.parse("{")).isInstanceOf(IOException.class);
  }
}
