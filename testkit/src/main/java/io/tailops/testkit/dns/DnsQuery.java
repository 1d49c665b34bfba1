package io.tailops.testkit.dns;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal DNS client for tests (RFC 1035): one A or AAAA question to one server, over UDP or TCP, no recursion
 * asked, the answer's response code, authoritative flag and addresses. What a pod's resolver would ask a cluster's
 * nameserver, without a resolver library or a {@code dig} on the machine.
 *
 * @param rcode 0 NOERROR, 3 NXDOMAIN, 5 REFUSED, ...
 * @param addresses the A or AAAA records of the answer section, in order
 */
public record DnsQuery(int rcode, boolean authoritative, List<String> addresses) {
  public static final int TYPE_A = 1;
  public static final int TYPE_AAAA = 28;
  public static final int NOERROR = 0;
  public static final int NXDOMAIN = 3;
  public static final int REFUSED = 5;

  /** Asks {@code server} over UDP for the {@code type} records of {@code name}. */
  public static DnsQuery udp(InetSocketAddress server, String name, int type, Duration timeout) {
    byte[] query = query(name, type);
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.setSoTimeout((int) timeout.toMillis());
      socket.send(new DatagramPacket(query, query.length, server));
      byte[] buf = new byte[4096];
      DatagramPacket reply = new DatagramPacket(buf, buf.length);
      while (true) {
        socket.receive(reply);
        if (reply.getLength() >= 2 && buf[0] == query[0] && buf[1] == query[1]) {
          return parse(ByteBuffer.wrap(buf, 0, reply.getLength()), type);
        }
      }
    } catch (SocketTimeoutException e) {
      throw new UncheckedIOException("no DNS answer from " + server + " within " + timeout, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Asks {@code server} over TCP (two-byte length prefix) for the {@code type} records of {@code name}. */
  public static DnsQuery tcp(InetSocketAddress server, String name, int type, Duration timeout) {
    byte[] query = query(name, type);
    try (Socket socket = new Socket()) {
      socket.connect(server, (int) timeout.toMillis());
      socket.setSoTimeout((int) timeout.toMillis());
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeShort(query.length);
      out.write(query);
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] reply = new byte[in.readUnsignedShort()];
      in.readFully(reply);
      return parse(ByteBuffer.wrap(reply), type);
    } catch (IOException e) {
      throw new UncheckedIOException("DNS over TCP to " + server + ": " + e.getMessage(), e);
    }
  }

  static byte[] query(String name, int type) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int id = ThreadLocalRandom.current().nextInt(1, 0xffff);
    b.write(id >> 8);
    b.write(id);
    b.write(0); // standard query, no recursion desired
    b.write(0);
    b.writeBytes(new byte[] {0, 1, 0, 0, 0, 0, 0, 0}); // one question
    for (String label : name.replaceFirst("\\.$", "").split("\\.")) {
      byte[] l = label.getBytes(StandardCharsets.US_ASCII);
      b.write(l.length);
      b.writeBytes(l);
    }
    b.write(0);
    b.write(type >> 8);
    b.write(type);
    b.write(0);
    b.write(1); // class IN
    return b.toByteArray();
  }

  static DnsQuery parse(ByteBuffer m, int type) throws IOException {
    m.getShort(); // id
    int flags = m.getShort() & 0xffff;
    int questions = m.getShort() & 0xffff;
    int answers = m.getShort() & 0xffff;
    m.getShort();
    m.getShort();
    for (int i = 0; i < questions; i++) {
      skipName(m);
      m.getInt(); // type, class
    }
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < answers; i++) {
      skipName(m);
      int rrType = m.getShort() & 0xffff;
      m.getShort(); // class
      m.getInt(); // ttl
      int length = m.getShort() & 0xffff;
      byte[] data = new byte[length];
      m.get(data);
      if (rrType == type && length == 4) {
        try {
          addresses.add(InetAddress.getByAddress(data).getHostAddress());
        } catch (UnknownHostException e) {
          throw new IOException(e);
        }
      } else if (rrType == type && length == 16) {
        addresses.add(ipv6(data));
      }
    }
    return new DnsQuery(flags & 0xf, (flags & 0x0400) != 0, addresses);
  }

  /** An IPv6 address in its canonical text form (RFC 5952: lower case, the longest run of zero groups as ::). */
  static String ipv6(byte[] a) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        b.append("::");
        i += bestLen - 1;
        continue;
      }
      if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
        b.append(':');
      }
      b.append(Integer.toHexString(g[i]));
    }
    return b.toString();
  }

  private static void skipName(ByteBuffer m) {
    while (true) {
      int len = m.get() & 0xff;
      if (len == 0) {
        return;
      }
      if ((len & 0xc0) == 0xc0) {
        m.get(); // compression pointer: the name ends here
        return;
      }
      m.position(m.position() + len);
    }
  }
}
