package io.tailops.controlplane.tailscale;

import java.time.Duration;

/**
 * Observes every HTTP request the Tailscale API client sends (each retry and each token request counts), for example
 * to export Prometheus counters and latency histograms. Called on the calling thread after the response headers
 * arrived or the attempt failed; implementations must be fast and must not throw (exceptions are logged and ignored).
 */
@FunctionalInterface
public interface ApiCallListener {
  /** A listener that does nothing. */
  ApiCallListener NONE = (method, endpoint, status, duration) -> { };

  /**
   * @param method HTTP method, e.g. {@code GET}
   * @param endpoint path template without IDs (low cardinality), e.g. {@code /api/v2/device/{id}} or
   *     {@code /api/v2/oauth/token}
   * @param status HTTP status, or -1 when no response arrived (timeout, connection refused, …)
   * @param duration time from sending the request to receiving the response (or the failure)
   */
  void onRequest(String method, String endpoint, int status, Duration duration);
}
