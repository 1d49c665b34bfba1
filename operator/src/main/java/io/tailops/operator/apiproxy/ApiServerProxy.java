package io.tailops.operator.apiproxy;

import io.tailops.operator.config.ApiServerProxySettings.Mode;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes API server proxy: an HTTP/1.1 listener on the operator pod's loopback, reached from the tailnet
 * through the operator device's serve config (which terminates TLS where the control plane issues certificates, and
 * sets {@code X-Forwarded-For} to the caller's tailnet address). For each request it asks the device who the caller
 * is ({@link WhoIs}), decides ({@link RequestPolicy}), rewrites the head (impersonation in auth mode) and relays the
 * request to the API server and the answer back byte for byte: watches stream, and protocol upgrades
 * ({@code kubectl exec}, {@code attach}, {@code port-forward}: SPDY or WebSocket) become a two-way tunnel.
 *
 * <p>Nothing is buffered beyond a message head; bodies are never logged.
 */
public final class ApiServerProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServerProxy.class);
  /** Idle time after which a connection from the device (between requests) is closed; Go's transport keeps 90 s. */
  static final Duration CLIENT_IDLE = Duration.ofMinutes(2);
  /** An upstream connection idle longer than this is replaced instead of reused (the API server may have closed it). */
  static final Duration UPSTREAM_IDLE = Duration.ofSeconds(30);
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final int MAX_CONNECTIONS = 512;

  private final Mode mode;
  private final Upstream upstream;
  private final WhoIs whoIs;
  private final ApiServerProxyStatus status;
  private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
  private final AtomicInteger threadIds = new AtomicInteger();
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "apiserver-proxy-" + threadIds.incrementAndGet());
    t.setDaemon(true);
    return t;
  });
  private ServerSocket server;
  private volatile boolean closed;

  public ApiServerProxy(Mode mode, Upstream upstream, WhoIs whoIs, ApiServerProxyStatus status) {
    if (mode == Mode.OFF) {
      throw new IllegalArgumentException("the API server proxy is off");
    }
    this.mode = mode;
    this.upstream = upstream;
    this.whoIs = whoIs;
    this.status = status;
  }

  /** Listens on {@code 127.0.0.1:port} (0: any free port) and starts serving. */
  public synchronized ApiServerProxy start(int port) throws IOException {
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    Thread acceptor = new Thread(this::acceptLoop, "apiserver-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    LOG.info("API server proxy in {} mode listening on {} (upstream {})", mode == Mode.AUTH ? "auth" : "noauth",
        server.getLocalSocketAddress(), upstream.url());
    return this;
  }

  public int port() {
    return server.getLocalPort();
  }

  public ApiServerProxyStatus status() {
    return status;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("API server proxy: accept failed: {}", e.toString());
        }
        continue;
      }
      if (!slots.tryAcquire()) {
        pool.execute(() -> refuseBusy(s));
        continue;
      }
      pool.execute(() -> {
        try {
          serve(s);
        } finally {
          slots.release();
        }
      });
    }
  }

  private void refuseBusy(Socket s) {
    try (s) {
      s.getOutputStream().write(HttpMessage.plainResponse(503, "Service Unavailable",
          "too many connections to the API server proxy"));
    } catch (IOException e) {
      // the caller went away
    }
  }

  /** One connection from the device: requests in order, each answered before the next is read. */
  private void serve(Socket client) {
    Socket up = null;
    long upUsedAt = 0;
    try (client) {
      client.setTcpNoDelay(true);
      client.setSoTimeout((int) CLIENT_IDLE.toMillis());
      InputStream cin = new BufferedInputStream(client.getInputStream());
      OutputStream cout = new BufferedOutputStream(client.getOutputStream());
      InputStream uin = null;
      OutputStream uout = null;
      while (!closed) {
        Optional<HttpMessage> read;
        try {
          read = HttpMessage.read(cin);
        } catch (SocketTimeoutException e) {
          return; // idle keep-alive connection
        } catch (HttpMessage.MalformedException e) {
          cout.write(HttpMessage.plainResponse(400, "Bad Request", "malformed request: " + e.getMessage()));
          cout.flush();
          return;
        }
        if (read.isEmpty()) {
          return;
        }
        HttpMessage req = read.get();
        client.setSoTimeout(0); // bodies and streams may pause as long as they like
        HttpMessage.BodyKind reqBody;
        try {
          if (!req.target().startsWith("/")) {
            throw new HttpMessage.MalformedException("request target must be a path");
          }
          reqBody = req.requestBody();
        } catch (HttpMessage.MalformedException e) {
          cout.write(HttpMessage.plainResponse(400, "Bad Request", "malformed request: " + e.getMessage()));
          cout.flush();
          return;
        }
        PeerIdentity who = identify(req);
        RequestPolicy.Decision decision = RequestPolicy.decide(mode, who, req.method(), req.target(), req.path());
        if (decision instanceof RequestPolicy.Refuse r) {
          String caller = who == null ? "an unknown caller" : who.describe();
          LOG.info("API server proxy refused {} {} from {}: {} {}", req.method(), req.path(), caller, r.status(),
              r.message());
          status.refused(caller, r.status(), r.message());
          drain(req, reqBody, cin);
          cout.write(HttpMessage.plainResponse(r.status(), r.reason(), r.message()));
          cout.flush();
          return;
        }
        RequestPolicy.Forward f = (RequestPolicy.Forward) decision;
        if (f.recordingNotice() != null) {
          LOG.warn("API server proxy: {}", f.recordingNotice());
          status.recordingNotice(who.describe(), f.recordingNotice());
        }
        boolean clientWantsClose = req.hasToken("Connection", "close");
        boolean upgrade = rewrite(req, f);
        clientWantsClose &= !upgrade;
        if (req.hasToken("Expect", "100-continue")) {
          req.remove("Expect");
          cout.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          cout.flush();
        }
        boolean reused = up != null;
        if (up != null && System.nanoTime() - upUsedAt > UPSTREAM_IDLE.toNanos()) {
          closeQuietly(up);
          up = null;
          reused = false;
        }
        if (up == null) {
          try {
            up = upstream.connect(CONNECT_TIMEOUT);
          } catch (IOException e) {
            LOG.warn("API server proxy: cannot reach the API server {}: {}", upstream.url(), e.toString());
            cout.write(HttpMessage.plainResponse(502, "Bad Gateway", "cannot reach the Kubernetes API server"));
            cout.flush();
            return;
          }
          uin = new BufferedInputStream(up.getInputStream());
          uout = new BufferedOutputStream(up.getOutputStream());
        }
        req.writeTo(uout);
        req.relayBody(reqBody, cin, uout);
        Optional<HttpMessage> answer = HttpMessage.read(uin);
        if (answer.isEmpty() && reused && reqBody == HttpMessage.BodyKind.NONE) {
          // the API server closed the kept-alive connection as we used it: once more on a fresh one
          closeQuietly(up);
          up = upstream.connect(CONNECT_TIMEOUT);
          uin = new BufferedInputStream(up.getInputStream());
          uout = new BufferedOutputStream(up.getOutputStream());
          req.writeTo(uout);
          uout.flush();
          answer = HttpMessage.read(uin);
        }
        if (answer.isEmpty()) {
          cout.write(HttpMessage.plainResponse(502, "Bad Gateway", "the Kubernetes API server closed the connection"));
          cout.flush();
          return;
        }
        HttpMessage resp = answer.get();
        while (resp.status() / 100 == 1 && resp.status() != 101) { // informational answers come before the final one
          resp.writeTo(cout);
          cout.flush();
          resp = HttpMessage.read(uin).orElseThrow(() -> new IOException("API server closed after an 1xx answer"));
        }
        status.forwarded();
        if (resp.status() == 101) {
          resp.writeTo(cout);
          cout.flush();
          tunnel(client, cin, cout, up, uin, uout);
          return;
        }
        HttpMessage.BodyKind respBody = resp.responseBody(req.method());
        if (clientWantsClose) {
          resp.set("Connection", "close"); // the caller asked to close after this answer; say that it happens
        }
        resp.writeTo(cout);
        resp.relayBody(respBody, uin, cout);
        upUsedAt = System.nanoTime();
        if (respBody == HttpMessage.BodyKind.UNTIL_CLOSE || resp.hasToken("Connection", "close")
            || clientWantsClose) {
          return;
        }
        client.setSoTimeout((int) CLIENT_IDLE.toMillis());
      }
    } catch (IOException e) {
      LOG.debug("API server proxy connection ended: {}", e.toString());
    } finally {
      closeQuietly(up);
    }
  }

  /**
   * Reads the body of a refused request (up to 1 MiB), so that closing the connection does not reset it before the
   * refusal is read (a close with unread data sends a TCP reset).
   */
  private static void drain(HttpMessage req, HttpMessage.BodyKind kind, InputStream in) {
    try {
      req.readBody(kind, in, 1 << 20);
    } catch (IOException e) {
      // too large or gone: close anyway
    }
  }

  /** Who the caller is: the device's whois for the address serve put in {@code X-Forwarded-For}. */
  private PeerIdentity identify(HttpMessage req) {
    Optional<String> forwardedFor = req.header("X-Forwarded-For");
    if (forwardedFor.isEmpty() || forwardedFor.get().contains(",") || req.headers("X-Forwarded-For").size() > 1) {
      return null; // not from the device's serve config
    }
    try {
      Optional<PeerIdentity> who = whoIs.whoIs(forwardedFor.get().strip());
      status.problem(null);
      return who.orElse(null);
    } catch (IOException | RuntimeException e) {
      LOG.warn("API server proxy: cannot ask the operator device who {} is: {}", forwardedFor.get(), e.toString());
      status.problem("the operator device's LocalAPI cannot be asked who callers are (" + e.getMessage() + ")");
      return null;
    }
  }

  /**
   * Edits the request head for the API server; returns whether it asks for a protocol upgrade. Hop-by-hop fields go
   * (the upgrade ones stay for an upgrade), as do {@code Forwarded}/{@code X-Forwarded-*}; in auth mode every
   * credential and impersonation field of the caller is replaced by the operator's credentials and the caller's
   * tailnet identity.
   */
  boolean rewrite(HttpMessage req, RequestPolicy.Forward f) {
    boolean upgrade = req.hasToken("Connection", "upgrade") && req.header("Upgrade").isPresent();
    for (String v : req.headers("Connection")) {
      for (String token : v.split(",")) {
        String t = token.strip();
        if (!t.isEmpty() && !(upgrade && t.equalsIgnoreCase("upgrade"))) {
          req.remove(t);
        }
      }
    }
    req.remove("Connection");
    req.remove("Keep-Alive");
    req.remove("Proxy-Connection");
    req.remove("Proxy-Authorization");
    req.remove("Forwarded");
    req.removePrefix("X-Forwarded-");
    if (upgrade) {
      req.add("Connection", "Upgrade");
    } else {
      req.remove("Upgrade");
    }
    req.set("Host", upstream.authority());
    if (mode == Mode.AUTH) {
      req.remove("Authorization");
      req.remove("Impersonate-User");
      req.remove("Impersonate-Group");
      req.remove("Impersonate-Uid");
      req.removePrefix("Impersonate-Extra-");
      req.add("Impersonate-User", headerValue(f.user()));
      for (String g : f.groups()) {
        req.add("Impersonate-Group", headerValue(g));
      }
      String auth = upstream.authorization();
      if (auth != null) {
        req.add("Authorization", auth);
      }
    }
    return upgrade;
  }

  /** A value as raw UTF-8 bytes (as Go writes it); heads are written byte per char. */
  private static String headerValue(String v) {
    return new String(v.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  /** After a 101: bytes both ways until either side ends, then both connections close. */
  private void tunnel(Socket client, InputStream cin, OutputStream cout, Socket up, InputStream uin,
      OutputStream uout) {
    pool.execute(() -> {
      try {
        HttpMessage.copyUntilEof(cin, uout);
      } catch (IOException e) {
        // either side went away
      } finally {
        closeQuietly(up);
        closeQuietly(client);
      }
    });
    try {
      HttpMessage.copyUntilEof(uin, cout);
    } catch (IOException e) {
      // either side went away
    } finally {
      closeQuietly(up);
      closeQuietly(client);
    }
  }

  private static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    pool.shutdownNow();
  }
}
