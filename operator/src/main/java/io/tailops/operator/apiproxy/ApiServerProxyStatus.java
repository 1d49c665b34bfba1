package io.tailops.operator.apiproxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tailops.operator.config.ApiServerProxySettings.Mode;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the API server proxy has to say where users look: the status ConfigMap's {@code apiServerProxy} entry, doctor,
 * the status page, Prometheus ({@code tailscale_operator_apiserver_proxy_requests_total{outcome}}), and, through the
 * listener, an Event when a grant asks for a session recording that cannot be made.
 */
public final class ApiServerProxyStatus {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ApiServerProxyStatus.class);
  /** Most recording notices kept (one per caller and kind of request). */
  static final int MAX_NOTICES = 20;

  private final Mode mode;
  private final Clock clock;
  private final MeterRegistry registry;
  private final Map<String, Notice> notices = new LinkedHashMap<>();
  private volatile String endpoint = "";
  private volatile String problem;
  private volatile Refusal lastRefusal;
  private volatile Consumer<Notice> onNotice = n -> { };
  private volatile Runnable onChange = () -> { };

  /** A grant asked for a recording this operator cannot make. */
  public record Notice(String caller, String message, Instant at) {
  }

  /** The last refused request (caller and message only: never headers or bodies). */
  public record Refusal(String caller, int status, String message, Instant at) {
  }

  public ApiServerProxyStatus(Mode mode, Clock clock, MeterRegistry registry) {
    this.mode = mode;
    this.clock = clock;
    this.registry = registry;
  }

  public Mode mode() {
    return mode;
  }

  /** Called with each new notice (a caller's first, or a changed message); used for the Event. */
  public void onNotice(Consumer<Notice> listener) {
    this.onNotice = listener;
  }

  /** Called when what {@link #summary()} says may have changed. */
  public void onChange(Runnable listener) {
    this.onChange = listener;
  }

  /** Where callers reach the proxy on the tailnet, e.g. {@code https://op.tailnet.ts.net}. */
  public void endpoint(String url) {
    if (!url.equals(endpoint)) {
      endpoint = url;
      LOG.info("Kubernetes API server proxy: kubectl server {}", describe(url));
      onChange.run();
    }
  }

  /** The URL, with what plain HTTP means where the control plane issues no certificates. */
  static String describe(String url) {
    return url + (url.startsWith("http://") ? " (plain HTTP: the control plane issues no TLS certificates; traffic "
        + "is still encrypted by WireGuard)" : "");
  }

  public String endpoint() {
    return endpoint;
  }

  /** Something that keeps the proxy from serving (null when fine). */
  public void problem(String message) {
    if (!java.util.Objects.equals(message, problem)) {
      problem = message;
      onChange.run();
    }
  }

  public String problem() {
    return problem;
  }

  void forwarded() {
    count("forwarded");
  }

  void refused(String caller, int status, String message) {
    count("refused");
    lastRefusal = new Refusal(caller, status, message, clock.instant());
  }

  public Refusal lastRefusal() {
    return lastRefusal;
  }

  void recordingNotice(String caller, String message) {
    Notice n = new Notice(caller, message, clock.instant());
    synchronized (notices) {
      Notice old = notices.get(message);
      if (old != null) {
        return;
      }
      notices.put(message, n);
      while (notices.size() > MAX_NOTICES) {
        notices.remove(notices.keySet().iterator().next());
      }
    }
    onChange.run(); // publishes the status ConfigMap first: the Event is recorded on it
    onNotice.accept(n);
  }

  public List<Notice> notices() {
    synchronized (notices) {
      return new ArrayList<>(notices.values());
    }
  }

  private void count(String outcome) {
    if (registry != null) {
      Counter.builder("tailscale_operator_apiserver_proxy_requests_total").tag("outcome", outcome)
          .register(registry).increment();
    }
  }

  /** One paragraph for the status ConfigMap and the status page. */
  public String summary() {
    if (mode == Mode.OFF) {
      return "off (APISERVER_PROXY=false)";
    }
    StringBuilder b = new StringBuilder();
    b.append(mode == Mode.AUTH ? "auth mode (requests impersonate the caller's tailnet identity)"
        : "noauth mode (requests are forwarded with the caller's own credentials)");
    if (problem != null) {
      b.append("\nnot serving: ").append(problem);
    } else if (!endpoint.isEmpty()) {
      b.append("\nkubectl server: ").append(describe(endpoint));
    }
    List<Notice> ns = notices();
    if (!ns.isEmpty()) {
      b.append("\nsession recording unavailable (no Recorder):");
      ns.forEach(n -> b.append("\n  ").append(n.message()));
    }
    return b.toString();
  }
}
