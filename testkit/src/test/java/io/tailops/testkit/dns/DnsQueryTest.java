package io.tailops.testkit.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DnsQueryTest {

  @Test
  void ipv6AddressesAreWrittenInTheirCanonicalForm() throws Exception {
    assertThat(DnsQuery.ipv6(InetAddress.getByName("fd00::99").getAddress())).isEqualTo("fd00::99");
    assertThat(DnsQuery.ipv6(InetAddress.getByName("fd7a:115c:a1e0::a").getAddress())).isEqualTo("fd7a:115c:a1e0::a");
    assertThat(DnsQuery.ipv6(InetAddress.getByName("::1").getAddress())).isEqualTo("::1");
    assertThat(DnsQuery.ipv6(new byte[16])).isEqualTo("::");
    assertThat(DnsQuery.ipv6(InetAddress.getByName("1:0:2:0:0:3:0:4").getAddress())).isEqualTo("1:0:2::3:0:4");
    assertThat(DnsQuery.ipv6(InetAddress.getByName("1:2:3:4:5:6:7:8").getAddress())).isEqualTo("1:2:3:4:5:6:7:8");
  }

  @Test
  void readsAnAnswerWithACompressedName() throws Exception {
    byte[] q = DnsQuery.query("nas.tailnet-abc.ts.net", DnsQuery.TYPE_A);
    ByteBuffer r = ByteBuffer.allocate(q.length + 16);
    r.put(q);
    r.put(2, (byte) 0x84); // response, authoritative
    r.putShort(6, (short) 1); // one answer
    r.put(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, (byte) 244, 0, 7});
    r.flip();
    DnsQuery a = DnsQuery.parse(r, DnsQuery.TYPE_A);
    assertThat(a.rcode()).isEqualTo(DnsQuery.NOERROR);
    assertThat(a.authoritative()).isTrue();
    assertThat(a.addresses()).containsExactly("10.244.0.7");
  }
}
