package io.tailops.operator.runtime;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.tailops.controlplane.CrashPoints;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * <b>TEST-ONLY</b>: passes every write of the operator's Kubernetes client to {@link CrashPoints} (named by verb and
 * resource, e.g. {@code create statefulsets}, {@code update services/status}), before it is sent and when its answer
 * arrived. Installed only when {@link CrashPoints#ENABLED} (a test sets {@value CrashPoints#ENV}); never in
 * production. Leases (leader election, renewed on a timer) and Events (informational) are not crash points.
 */
public final class CrashPointInterceptor implements Interceptor {
  private static final String NAME = "tsop-test-crash-points";

  private CrashPointInterceptor() {
  }

  /** Adds the interceptor to an HTTP client builder when the test-only hook is on; else does nothing. */
  public static void addTo(io.fabric8.kubernetes.client.http.HttpClient.Builder builder) {
    if (CrashPoints.ENABLED) {
      builder.addOrReplaceInterceptor(NAME, new CrashPointInterceptor());
    }
  }

  /** The crash point of a request, or null when it is not a side effect. */
  static String point(HttpRequest request) {
    if (request == null || request.uri() == null) {
      return null;
    }
    DeniedRequests.Attributes a = DeniedRequests.attributes(request.method(), request.uri());
    boolean write = switch (a.verb()) {
      case "create", "update", "patch", "delete", "deletecollection" -> true;
      default -> false;
    };
    if (!write || a.resource().startsWith("leases") || a.resource().equals("events")) {
      return null;
    }
    return a.verb() + " " + a.resource();
  }

  private static String target(HttpRequest request) {
    return request.uri().getRawPath();
  }

  @Override
  public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
    String p = point(request);
    if (p != null) {
      CrashPoints.before(p, target(request));
    }
  }

  @Override
  public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
    String p = point(request);
    if (p != null) {
      CrashPoints.after(p, target(request), response == null ? -1 : response.code());
    }
  }
}
