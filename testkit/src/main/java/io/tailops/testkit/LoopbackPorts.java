package io.tailops.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Free local ports for test processes, never the same one twice in this JVM.
 *
 * <p>Asking the kernel for port 0 and closing the socket is racy in two ways: another process may take the port before
 * ours binds it, and two requests in a row may get the same port back (etcd once got one port for its client and its
 * peer listener and failed with "address already in use"). The second race is ours to avoid: every port handed out is
 * remembered (the last {@value #REMEMBERED} of them) and not handed out again.
 */
public final class LoopbackPorts {

  /** Ports never handed out: 8080 is the official operator's (controller-runtime's) default metrics port, etc. */
  public static final Set<Integer> RESERVED = Set.of(8080, 8443, 9001, 9002, 3478, 41641);

  static final int REMEMBERED = 4096;

  private static final Set<Integer> HANDED_OUT = new LinkedHashSet<>();

  private LoopbackPorts() {
  }

  /** A TCP port free on 127.0.0.1 right now, not handed out before by this JVM. */
  public static int tcp() {
    return tcp("127.0.0.1");
  }

  /** A TCP port free on {@code host} (a local address) right now, not handed out before by this JVM. */
  public static int tcp(String host) {
    for (int i = 0; i < 100; i++) {
      int port;
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress(host, 0));
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot find a free TCP port on " + host, e);
      }
      if (claim(port)) {
        return port;
      }
    }
    throw new IllegalStateException("cannot find a free TCP port on " + host);
  }

  /** A UDP port free on {@code host} (a local address) right now, not handed out before by this JVM. */
  public static int udp(String host) {
    for (int i = 0; i < 100; i++) {
      int port;
      try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(host, 0))) {
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot find a free UDP port on " + host, e);
      }
      if (claim(port)) {
        return port;
      }
    }
    throw new IllegalStateException("cannot find a free UDP port on " + host);
  }

  private static synchronized boolean claim(int port) {
    if (RESERVED.contains(port) || !HANDED_OUT.add(port)) {
      return false;
    }
    if (HANDED_OUT.size() > REMEMBERED) {
      var it = HANDED_OUT.iterator();
      it.next();
      it.remove();
    }
    return true;
  }
}
