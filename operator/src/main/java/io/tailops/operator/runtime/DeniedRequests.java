package io.tailops.operator.runtime;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.micrometer.core.instrument.Counter;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every request of the operator's Kubernetes client that the API server denies (403 Forbidden): logged as an error
 * naming the verb and the resource, counted in {@code tailscale_operator_kube_requests_denied_total{verb,resource}},
 * and kept (the last {@value #KEPT}) for tests, which assert that there are none. A denial means the operator needs a
 * permission that the chart's RBAC does not grant: the call failed, whatever the caller then did with the error (some
 * callers only log it, so without this the gap would stay hidden).
 */
public final class DeniedRequests implements Interceptor {
  static final int KEPT = 100;
  private static final String NAME = "tsop-denied-requests";
  private static final Logger LOG = LoggerFactory.getLogger(DeniedRequests.class);

  /** What RBAC checked, from the request: verb, API group ("" for core), resource[/subresource], namespace, name. */
  public record Attributes(String verb, String group, String resource, String namespace, String name) {
    @Override
    public String toString() {
      return verb + " " + (group.isEmpty() ? "" : group + "/") + resource
          + (namespace == null ? "" : " in namespace " + namespace) + (name == null ? "" : " named " + name);
    }
  }

  /** One denied request and when its answer came. */
  public record Denial(java.time.Instant at, Attributes request) {
    @Override
    public String toString() {
      return at + " " + request;
    }
  }

  private final OperatorMetrics metrics;
  private final Deque<Denial> kept = new ArrayDeque<>();
  private long total;

  public DeniedRequests(OperatorMetrics metrics) {
    this.metrics = metrics;
  }

  /** The client builder with this interceptor on every request. */
  public KubernetesClientBuilder installOn(KubernetesClientBuilder builder) {
    return builder.withHttpClientBuilderConsumer(this::addTo);
  }

  /** Adds this interceptor to an HTTP client builder (a client builder keeps only one builder consumer). */
  public void addTo(io.fabric8.kubernetes.client.http.HttpClient.Builder builder) {
    builder.addOrReplaceInterceptor(NAME, this);
  }

  /** Called once per failed response (plain requests and watch upgrades alike). */
  @Override
  public CompletableFuture<Boolean> afterFailure(BasicBuilder builder, HttpResponse<?> response, RequestTags tags) {
    if (response != null && response.code() == 403 && response.request() != null) {
      denied(response.request());
    }
    return CompletableFuture.completedFuture(false);
  }

  private void denied(HttpRequest request) {
    Attributes a = attributes(request.method(), request.uri());
    synchronized (kept) {
      total++;
      kept.addLast(new Denial(java.time.Instant.now(), a));
      if (kept.size() > KEPT) {
        kept.removeFirst();
      }
    }
    Counter.builder("tailscale_operator_kube_requests_denied_total")
        .description("Kubernetes API requests denied by RBAC (403): the chart's grants lack something the operator "
            + "needs")
        .tag("verb", a.verb()).tag("resource", (a.group().isEmpty() ? "" : a.group() + "/") + a.resource())
        .register(metrics.registry()).increment();
    LOG.error("the Kubernetes API server denied {} (403 Forbidden): the operator's ServiceAccount lacks this "
        + "permission; the Helm chart's RBAC (templates/operator-rbac.yaml) should grant it", a);
  }

  /** How many requests were denied since this client was built. */
  public long total() {
    synchronized (kept) {
      return total;
    }
  }

  /** The last denied requests, oldest first. */
  public List<Denial> recent() {
    synchronized (kept) {
      return List.copyOf(kept);
    }
  }

  /** The RBAC attributes of a request, from its method and path as the API server derives them. */
  static Attributes attributes(String method, URI uri) {
    List<String> p = Arrays.stream(uri.getRawPath().split("/")).filter(s -> !s.isEmpty()).toList();
    String query = uri.getRawQuery() == null ? "" : "&" + uri.getRawQuery() + "&";
    // /api/v1/... or /apis/<group>/<version>/...
    int i;
    String group;
    if (p.size() >= 2 && p.get(0).equals("api")) {
      group = "";
      i = 2;
    } else if (p.size() >= 3 && p.get(0).equals("apis")) {
      group = p.get(1);
      i = 3;
    } else {
      return new Attributes(method.toLowerCase(java.util.Locale.ROOT), "", uri.getRawPath(), null, null);
    }
    String namespace = null;
    if (p.size() > i + 1 && p.get(i).equals("namespaces") && p.size() > i + 2) {
      namespace = p.get(i + 1);
      i += 2;
    }
    String resource = i < p.size() ? p.get(i) : "";
    String name = i + 1 < p.size() ? p.get(i + 1) : null;
    if (namespace == null && resource.equals("namespaces") && name != null) {
      namespace = name; // the namespace itself
    }
    if (i + 2 < p.size()) {
      resource = resource + "/" + p.get(i + 2);
    }
    String verb = switch (method.toUpperCase(java.util.Locale.ROOT)) {
      case "GET", "HEAD" -> query.contains("&watch=true&") || query.contains("&watch=1&") ? "watch"
          : name == null ? "list" : "get";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> name == null ? "deletecollection" : "delete";
      default -> method.toLowerCase(java.util.Locale.ROOT);
    };
    return new Attributes(verb, group, resource, namespace, name);
  }
}
