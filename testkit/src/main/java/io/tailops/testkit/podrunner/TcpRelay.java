package io.tailops.testkit.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import io.tailops.testkit.Sockets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A plain TCP relay (what kube-proxy's old userspace mode did): accepts on one address and pipes each connection, byte
 * for byte in both directions, to a target chosen per connection. TLS passes through untouched. A connection whose
 * target cannot be reached is closed at once (the client sees a reset, as with a Service without endpoints).
 */
final class TcpRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final String name;
  private final ServerSocket server;
  private final Supplier<InetSocketAddress> target;
  private final ExecutorService pumps;
  private final Set<Socket> open = Collections.synchronizedSet(new HashSet<>());
  private volatile boolean closed;

  private TcpRelay(String name, ServerSocket server, Supplier<InetSocketAddress> target) {
    this.name = name;
    this.server = server;
    this.target = target;
    this.pumps = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "tsop-relay-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Listens on {@code listen} now and relays every connection to {@code target.get()}. */
  static TcpRelay start(String name, InetSocketAddress listen, Supplier<InetSocketAddress> target) {
    ServerSocket s = null;
    try {
      s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(listen, 128);
    } catch (IOException e) {
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // nothing to do
        }
      }
      throw new UncheckedIOException("relay " + name + ": cannot listen on " + listen, e);
    }
    TcpRelay r = new TcpRelay(name, s, target);
    Thread acceptor = new Thread(r::acceptLoop, "tsop-relay-accept-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
    log.debug("relay {} listening on {}", name, listen);
    return r;
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("relay {}: accept failed: {}", name, e.toString());
        }
        return;
      }
      pumps.execute(() -> connect(client));
    }
  }

  private void connect(Socket client) {
    InetSocketAddress to = target.get();
    Socket upstream = new Socket();
    open.add(client);
    open.add(upstream);
    try {
      if (to == null) {
        throw new IOException("no target");
      }
      upstream.connect(to, 5_000);
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
    } catch (IOException e) {
      log.debug("relay {}: cannot reach {}: {}", name, to, e.toString());
      closeBoth(client, upstream);
      return;
    }
    AtomicInteger done = new AtomicInteger();
    pumps.execute(() -> pump(client, upstream, done));
    pump(upstream, client, done);
  }

  /** Copies until end of file, then half-closes {@code to}; the second direction to finish closes both sockets. */
  private void pump(Socket from, Socket to, AtomicInteger done) {
    boolean clean = false;
    try {
      Sockets.copyUntilEof(from, to);
      clean = true;
    } catch (SocketException e) {
      // the other side went away
    } catch (IOException e) {
      log.debug("relay {}: {}", name, e.toString());
    } finally {
      if (!clean || done.incrementAndGet() == 2) {
        closeBoth(from, to);
      }
    }
  }

  private void closeBoth(Socket a, Socket b) {
    for (Socket s : new Socket[] {a, b}) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closed
      }
      open.remove(s);
    }
  }

  /** Stops listening and cuts every relayed connection. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closed
    }
    Socket[] all;
    synchronized (open) {
      all = open.toArray(new Socket[0]);
    }
    for (Socket s : all) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closed
      }
    }
    pumps.shutdownNow();
  }

  @Override
  public String toString() {
    return "TcpRelay[" + name + " " + server.getLocalSocketAddress() + "]";
  }
}
