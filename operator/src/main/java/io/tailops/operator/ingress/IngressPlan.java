package io.tailops.operator.ingress;

import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.status.Problem;
import java.util.List;

/** What the operator should do with one Ingress, decided by {@link IngressPlanner} without API writes. */
public sealed interface IngressPlan {

  /**
   * The Ingress is not for this operator (any proxy it had is cleaned up).
   *
   * @param nearMisses what looks like a request to serve it but is not the accepted form (Warnings)
   */
  record NotOurs(String why, List<Problem> nearMisses) implements IngressPlan {
    public NotOurs {
      nearMisses = List.copyOf(nearMisses);
    }

    public NotOurs(String why) {
      this(why, List.of());
    }
  }

  /** The Ingress is ours but cannot be served as it is; the existing proxy (if any) is left untouched. */
  record Unservable(List<Problem> problems) implements IngressPlan {
  }

  /**
   * The Ingress gets (or keeps) a proxy.
   *
   * @param serveConfigJson the serve config for the proxy Secret
   * @param funnel whether Funnel is on (requested and allowed)
   * @param httpRedirect whether port 80 redirects to HTTPS
   * @param plainHttp whether the tailnet Ingress is served over plain HTTP on port 80 (control planes without certs)
   * @param backendUrls the backends' URLs (for the redirect-loop probe)
   * @param problems events to record (ignored rules, defaulted paths, funnel denied, …)
   */
  record Expose(ParentRef parent, String hostname, List<String> tags, String serveConfigJson, String proxyClassName,
      boolean funnel, boolean httpRedirect, boolean plainHttp, boolean forwardClusterTraffic, boolean ephemeral,
      List<String> backendUrls, List<Problem> problems) implements IngressPlan {
  }
}
