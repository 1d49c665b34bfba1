package io.tailops.operator.runtime;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator's Prometheus metrics: reconciles by controller and outcome, control-plane calls by endpoint and
 * status, proxies by state, self-healing actions. Scraped at {@code /metrics}.
 */
public final class OperatorMetrics implements io.tailops.operator.reconcile.ReconcileMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, AtomicInteger> gauges = new ConcurrentHashMap<>();

  public MeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void reconciled(String controller, String outcome, Duration took) {
    Timer.builder("tailscale_operator_reconcile_seconds").tag("controller", controller).tag("outcome", outcome)
        .register(registry).record(took);
  }

  public void controlPlaneCall(String method, String endpoint, int status, Duration took) {
    Timer.builder("tailscale_operator_controlplane_request_seconds").tag("method", method).tag("endpoint", endpoint)
        .tag("status", status < 0 ? "error" : Integer.toString(status)).register(registry).record(took);
  }

  @Override
  public void selfHealing(String action) {
    Counter.builder("tailscale_operator_self_healing_total").tag("action", action).register(registry).increment();
  }

  /** Sets a gauge {@code tailscale_operator_<name>} with one label. */
  public void gauge(String name, String labelKey, String labelValue, int value) {
    String key = name + "|" + labelKey + "|" + labelValue;
    gauges.computeIfAbsent(key, k -> {
      AtomicInteger holder = new AtomicInteger();
      io.micrometer.core.instrument.Gauge.builder("tailscale_operator_" + name, holder, AtomicInteger::get)
          .tag(labelKey, labelValue).register(registry);
      return holder;
    }).set(value);
  }
}
