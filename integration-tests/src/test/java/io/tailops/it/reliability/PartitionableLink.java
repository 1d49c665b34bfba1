package io.tailops.it.reliability;

import io.tailops.testkit.LoopbackPorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay between one client (an operator process) and the API server, which a test can cut: while
 * {@linkplain #partition() partitioned}, every byte either way is dropped (connections stay open, requests are never
 * answered and never arrive: a network partition, not a refused connection); {@link #heal()} closes the connections
 * that lived through the partition (as TCP would give up on them) and relays new ones again. TLS passes through
 * untouched (the API server's certificate names 127.0.0.1, whatever the port).
 */
final class PartitionableLink implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean partitioned;
  private volatile boolean closed;

  PartitionableLink(int targetPort) {
    this.targetPort = targetPort;
    try {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), LoopbackPorts.tcp()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread t = new Thread(this::accept, "link-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  /** The URL to give the client in place of the API server's. */
  String url() {
    return "https://127.0.0.1:" + server.getLocalPort();
  }

  void partition() {
    partitioned = true;
  }

  void heal() {
    partitioned = false;
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  boolean partitioned() {
    return partitioned;
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        open.add(client);
        open.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (!partitioned) {
            out.write(buf, 0, n);
            out.flush();
          }
        }
      } catch (IOException e) {
        // closed either side
      } finally {
        if (!partitioned) {
          closeQuietly(from);
          closeQuietly(to);
        }
        // Partitioned: the other side sees nothing, not even the close; heal() closes it.
      }
    }, "pump");
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // closed
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closed
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
  }
}
