package io.tailops.testkit.official;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import io.tailops.testkit.Sockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One base URL for two servers, as the official operator's {@code OPERATOR_LOGIN_SERVER} needs (local-tailnet.md §4.5):
 * requests under {@code /api/v2/} go to the Tailscale API (the fake), everything else (the control protocol:
 * {@code /key}, the {@code /ts2021} Noise upgrade, {@code /derp}, ...) to headscale.
 *
 * <p>A socket-level proxy, because a JDK {@code HttpServer} cannot pass an HTTP Upgrade through: it reads each
 * connection's request head, picks the backend by path, and then pipes bytes both ways untouched until either side
 * closes — for hours, in the case of {@code /ts2021} after its {@code 101 Switching Protocols}. Requests without an
 * {@code Upgrade} header get {@code Connection: close}, and so do their responses, so that a connection carries
 * exactly one request and a client that keeps connections alive never sends its next request (maybe for the other
 * backend) down a pipe that is closing.
 */
public final class LoginServerRouter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LoginServerRouter.class);
  private static final int MAX_HEAD = 64 * 1024;
  private static final byte[] END_OF_HEAD = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private final URI api;
  private final URI control;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger apiRequests = new AtomicInteger();
  private final AtomicInteger controlRequests = new AtomicInteger();
  private volatile boolean closed;

  private LoginServerRouter(URI api, URI control, ServerSocket server) {
    this.api = api;
    this.control = control;
    this.server = server;
  }

  /**
   * Starts routing on a free port of 127.0.0.1.
   *
   * @param api base URL of the Tailscale API server ({@code /api/v2/...} goes there, path unchanged)
   * @param control base URL of the control server (everything else)
   */
  public static LoginServerRouter start(URI api, URI control) {
    try {
      ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
      LoginServerRouter router = new LoginServerRouter(api, control, server);
      Thread t = new Thread(router::acceptLoop, "login-server-router");
      t.setDaemon(true);
      t.start();
      return router;
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen on loopback", e);
    }
  }

  /** The one base URL, e.g. {@code http://127.0.0.1:40123}: the login server to give the official operator. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Requests routed to the Tailscale API so far. */
  public int apiRequests() {
    return apiRequests.get();
  }

  /** Requests (and upgrades) routed to the control server so far. */
  public int controlRequests() {
    return controlRequests.get();
  }

  /** Whether a request path belongs to the Tailscale API. */
  static boolean isApiPath(String target) {
    return target.startsWith("/api/v2/") || target.equals("/api/v2");
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        open.add(client);
        Thread t = new Thread(() -> serve(client), "login-server-router-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("login server router: accept failed: {}", e.toString());
        }
      }
    }
  }

  private void serve(Socket client) {
    Socket backend = null;
    try {
      InputStream in = client.getInputStream();
      ByteArrayOutputStream buffered = new ByteArrayOutputStream();
      int headEnd = readHead(in, buffered);
      if (headEnd < 0) {
        return; // closed before a full request head, or a head too large: nothing to route
      }
      byte[] bytes = buffered.toByteArray();
      List<String> lines = new ArrayList<>(List.of(
          new String(bytes, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n", -1)));
      String[] requestLine = lines.get(0).split(" ");
      String target = requestLine.length > 1 ? requestLine[1] : "/";
      boolean upgrade = lines.stream().anyMatch(l -> l.toLowerCase(Locale.ROOT).startsWith("upgrade:"));
      if (!upgrade) {
        lines.removeIf(l -> l.toLowerCase(Locale.ROOT).startsWith("connection:"));
        lines.add("Connection: close");
      }
      URI to = isApiPath(target) ? api : control;
      (to == api ? apiRequests : controlRequests).incrementAndGet();
      backend = new Socket();
      backend.connect(new InetSocketAddress(to.getHost(), to.getPort()), 5_000);
      open.add(backend);
      OutputStream out = backend.getOutputStream();
      out.write((String.join("\r\n", lines) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(bytes, headEnd + END_OF_HEAD.length, bytes.length - headEnd - END_OF_HEAD.length);
      out.flush();
      Socket b = backend;
      Thread up = new Thread(() -> pipe(client, b), "login-server-router-up");
      up.setDaemon(true);
      up.start();
      if (!upgrade) {
        // Not every server says so itself (the JDK's HttpServer does not): tell the client that this connection
        // ends with this response, or it would send its next request into a pipe that is about to close.
        forwardResponseHead(backend, client);
      }
      pipe(backend, client);
      up.join(1_000);
    } catch (IOException e) {
      LOG.debug("login server router: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly(client);
      closeQuietly(backend);
    }
  }

  /** Copies the response head from {@code backend} to {@code client} with {@code Connection: close} in it. */
  private static void forwardResponseHead(Socket backend, Socket client) throws IOException {
    ByteArrayOutputStream buffered = new ByteArrayOutputStream();
    int headEnd = readHead(backend.getInputStream(), buffered);
    OutputStream out = client.getOutputStream();
    byte[] bytes = buffered.toByteArray();
    if (headEnd < 0) {
      out.write(bytes); // no complete head: pass on whatever came
    } else {
      List<String> lines = new ArrayList<>(List.of(
          new String(bytes, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n", -1)));
      lines.removeIf(l -> l.toLowerCase(Locale.ROOT).startsWith("connection:"));
      lines.add("Connection: close");
      out.write((String.join("\r\n", lines) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(bytes, headEnd + END_OF_HEAD.length, bytes.length - headEnd - END_OF_HEAD.length);
    }
    out.flush();
  }

  /** Reads until the end of a message head; returns its offset in {@code buffered}, or -1. */
  private static int readHead(InputStream in, ByteArrayOutputStream buffered) throws IOException {
    byte[] buf = new byte[8192];
    while (buffered.size() < MAX_HEAD) {
      int n = in.read(buf);
      if (n < 0) {
        return -1;
      }
      buffered.write(buf, 0, n);
      int at = indexOf(buffered.toByteArray(), END_OF_HEAD);
      if (at >= 0) {
        return at;
      }
    }
    return -1;
  }

  static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Copies {@code from} to {@code to} until end of stream, then half-closes {@code to}. */
  private static void pipe(Socket from, Socket to) {
    try {
      Sockets.copyUntilEof(from, to);
    } catch (SocketException e) {
      // the other side closed
    } catch (IOException e) {
      LOG.debug("login server router: pipe ended: {}", e.toString());
    }
  }

  private void closeQuietly(Socket s) {
    if (s == null) {
      return;
    }
    open.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Socket s : List.copyOf(open)) {
      closeQuietly(s);
    }
  }
}
