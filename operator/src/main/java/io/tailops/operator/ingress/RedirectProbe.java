package io.tailops.operator.ingress;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Detects the seed guide's "HTTP redirect gotcha": the Tailscale proxy talks plain HTTP to the backend, so a backend
 * that redirects every HTTP request to HTTPS makes browsers loop. Sends one GET with a short timeout, following no
 * redirects, and reports a redirect to an {@code https://} URL. Uses the process's one outbound HTTP client (HTTP/1.1,
 * as the proxy speaks to the backend).
 */
public class RedirectProbe {
  private final HttpClient http;
  private final Duration timeout;
  private final UnaryOperator<URI> addressRewriter;

  /**
   * @param addressRewriter maps a backend URL before probing (identity in production; tests map cluster IPs to
   *     loopback servers)
   */
  public RedirectProbe(Duration timeout, UnaryOperator<URI> addressRewriter) {
    this.timeout = timeout;
    this.addressRewriter = addressRewriter;
    this.http = io.tailops.operator.threads.OperatorThreads.outbound();
  }

  /**
   * Set {@code -Dtsop.probe.loopbackOnly=true} where backends' cluster IPs are not real (tests, the local environment):
   * the probe then only contacts loopback addresses and never sends traffic to a cluster IP range on the host
   * network.
   */
  static final boolean LOOPBACK_ONLY = Boolean.getBoolean("tsop.probe.loopbackOnly");

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return h.startsWith("127.") || h.equals("::1") || h.equals("localhost");
  }

  public static RedirectProbe standard() {
    return new RedirectProbe(Duration.ofSeconds(2), UnaryOperator.identity());
  }

  /**
   * Probes {@code backendUrl} (an {@code http://} serve target) as the proxy would.
   *
   * @return the HTTPS location the backend redirects to, if it does
   */
  public Optional<String> httpsRedirect(String backendUrl) {
    if (!backendUrl.startsWith("http://")) {
      return Optional.empty();
    }
    try {
      URI uri = addressRewriter.apply(URI.create(backendUrl));
      if (uri == null || LOOPBACK_ONLY && !isLoopback(uri.getHost())) {
        return Optional.empty();
      }
      HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(timeout).GET();
      // The shared client's connect timeout is the control plane's (10 s): the wait here bounds connect and response.
      java.util.concurrent.CompletableFuture<HttpResponse<Void>> sent = http.sendAsync(req.build(),
          HttpResponse.BodyHandlers.discarding());
      HttpResponse<Void> resp;
      try {
        resp = sent.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        sent.cancel(true);
        return Optional.empty();
      }
      int s = resp.statusCode();
      if (s >= 300 && s < 400) {
        Optional<String> location = resp.headers().firstValue("Location");
        if (location.isPresent() && location.get().toLowerCase().startsWith("https://")) {
          return location;
        }
      }
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }
}
