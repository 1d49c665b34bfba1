package io.tailops.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** Byte pipes between sockets, for the relays and proxies of the test kit. */
public final class Sockets {
  private Sockets() {
  }

  /** Copies what {@code from} sends to {@code to} until end of stream, then half-closes {@code to}'s output. */
  public static void copyUntilEof(Socket from, Socket to) throws IOException {
    byte[] buf = new byte[16 * 1024];
    InputStream in = from.getInputStream();
    OutputStream out = to.getOutputStream();
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
      out.flush();
    }
    to.shutdownOutput();
  }
}
