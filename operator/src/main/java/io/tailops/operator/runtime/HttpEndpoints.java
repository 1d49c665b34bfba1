package io.tailops.operator.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One small HTTP listener of the operator. The operator runs two (see {@code OperatorRuntime}): the cluster-facing
 * port ({@code OPERATOR_HTTP_PORT}, all addresses) with only {@code /healthz}, {@code /readyz} and {@code /metrics},
 * and the loopback-only admin port ({@code OPERATOR_ADMIN_PORT}) with the status page and {@code doctor}, reached
 * through {@code kubectl port-forward} and, for the tailnet, through the operator device's serve config.
 */
public final class HttpEndpoints implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);

  /** A response: status, content type, body and extra headers. */
  public record Response(int status, String contentType, String body, Map<String, String> headers) {
    public Response(int status, String contentType, String body) {
      this(status, contentType, body, Map.of());
    }

    public static Response text(int status, String body) {
      return new Response(status, "text/plain; charset=utf-8", body);
    }

    /** This response with one more header. */
    public Response withHeader(String name, String value) {
      Map<String, String> h = new java.util.LinkedHashMap<>(headers);
      h.put(name, value);
      return new Response(status, contentType, body, Map.copyOf(h));
    }
  }

  /** What a handler may look at: the method, the path and the request headers (names are case-insensitive). */
  public record Request(String method, String path, Map<String, List<String>> headers) {
    /** Every value of {@code name}, in order (an empty list when absent). */
    public List<String> headers(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue();
        }
      }
      return List.of();
    }

    public Optional<String> header(String name) {
      List<String> v = headers(name);
      return v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }
  }

  private final HttpServer server;
  private final java.util.concurrent.ExecutorService handlers;
  private final String name;
  private final Map<String, Function<Request, Response>> routes = new ConcurrentHashMap<>();

  /**
   * @param host the address to listen on ({@code 0.0.0.0} for every address, {@code 127.0.0.1} for loopback only)
   * @param port 0 picks a free port
   * @param name what the listener is, for the log
   * @param handlerThreads threads that run the handlers, ended when idle; 0 runs them on the server's own dispatcher
   *     thread (only for handlers that answer at once from memory: a slow one would hold up every other request)
   */
  public HttpEndpoints(String host, int port, String name, int handlerThreads) throws IOException {
    this.name = name;
    server = HttpServer.create(new InetSocketAddress(host, port), 0);
    handlers = handlerThreads == 0 ? null : io.tailops.operator.threads.OperatorThreads.bounded("http-" + name,
        handlerThreads);
    server.setExecutor(handlers);
    server.createContext("/", this::handle);
  }

  /** With two handler threads. */
  public HttpEndpoints(String host, int port, String name) throws IOException {
    this(host, port, name, 2);
  }

  public HttpEndpoints(String host, int port) throws IOException {
    this(host, port, "endpoints");
  }

  /** Serves {@code path} (exact match) with {@code handler}. */
  public void route(String path, Supplier<Response> handler) {
    routes.put(path, request -> handler.get());
  }

  /** Serves {@code path} (exact match) with a handler that looks at the request. */
  public void routeRequest(String path, Function<Request, Response> handler) {
    routes.put(path, handler);
  }

  public void start() {
    server.start();
    LOG.info("serving {} on {}:{}", String.join(", ", new java.util.TreeSet<>(routes.keySet())),
        server.getAddress().getAddress().getHostAddress(), port());
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The address listened on. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      Function<Request, Response> h = routes.get(path);
      Response r;
      if (h == null) {
        r = Response.text(404, "not found\n");
      } else if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
        r = Response.text(405, "only GET and HEAD\n").withHeader("Allow", "GET, HEAD");
      } else {
        try {
          r = h.apply(new Request(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders())));
        } catch (RuntimeException e) {
          LOG.warn("{}: handler for {} failed: {}", name, path, e.toString());
          r = Response.text(500, "internal error\n");
        }
      }
      byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", r.contentType());
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      r.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
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
    if (handlers != null) {
      handlers.shutdownNow();
    }
  }
}
