package io.tailops.operator.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's one small HTTP port: {@code /healthz} (process alive), {@code /readyz} (caches synced and, when
 * leader election is on, ready to lead), {@code /metrics} (Prometheus), plus pages registered later (status page,
 * doctor).
 */
public final class HttpEndpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);

  /** A response: status, content type and body. */
  public record Response(int status, String contentType, String body) {
    public static Response text(int status, String body) {
      return new Response(status, "text/plain; charset=utf-8", body);
    }
  }

  private final HttpServer server;
  private final Map<String, Supplier<Response>> routes = new ConcurrentHashMap<>();

  public HttpEndpoints(String host, int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 0);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "http-endpoints");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
  }

  /** Serves {@code path} (exact match) with {@code handler}. */
  public void route(String path, Supplier<Response> handler) {
    routes.put(path, handler);
  }

  public void start() {
    server.start();
    LOG.info("serving /healthz, /readyz and /metrics on port {}", port());
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      Supplier<Response> h = routes.get(path);
      Response r;
      if (h == null) {
        r = Response.text(404, "not found\n");
      } else {
        try {
          r = h.get();
        } catch (RuntimeException e) {
          LOG.warn("handler for {} failed: {}", path, e.toString());
          r = Response.text(500, "internal error: " + e.getMessage() + "\n");
        }
      }
      byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", r.contentType());
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      ex.sendResponseHeaders(r.status(), "HEAD".equals(ex.getRequestMethod()) ? -1 : body.length);
      if (!"HEAD".equals(ex.getRequestMethod())) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
