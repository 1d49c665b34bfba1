package io.tailops.operator.service;

import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyTarget;
import java.util.List;

/** What the operator should do with one Service, decided by {@link ServicePlanner} without any API call. */
public sealed interface ServicePlan {

  /**
   * The Service does not ask for a proxy (any proxy it had is cleaned up).
   *
   * @param nearMisses what looks like a request for a proxy but is not the accepted form (Warnings)
   */
  record NotExposed(String why, List<io.tailops.operator.status.Problem> nearMisses) implements ServicePlan {
    public NotExposed {
      nearMisses = List.copyOf(nearMisses);
    }

    public NotExposed(String why) {
      this(why, List.of());
    }
  }

  /**
   * The Service asks for a proxy but cannot get one as it is.
   *
   * @param reason condition reason
   * @param message condition message (says what to fix)
   * @param eventReason reason of the Warning event
   */
  record Invalid(String reason, String message, String eventReason) implements ServicePlan {
  }

  /**
   * The Service gets a proxy.
   *
   * @param proxyClassName the ProxyClass it names (label, annotation or default), or null
   * @param loadBalancer whether the operator fulfils {@code status.loadBalancer}
   * @param hostnameFromAnnotation whether the hostname was given explicitly
   * @param funnelServeConfig serve config publishing port 443 through Funnel, or null
   * @param funnelDenied why Funnel was asked for but not granted (a warning; the Service is then served on the
   *     tailnet only), or null
   * @param notes what to tell the user about the Service besides (the default hostname adjusted, an annotation it
   *     ignores)
   */
  record Expose(ParentRef parent, String hostname, List<String> tags, ProxyTarget target, String proxyClassName,
      boolean loadBalancer, boolean ephemeral, boolean hostnameFromAnnotation, String funnelServeConfig,
      io.tailops.operator.status.Problem funnelDenied, List<io.tailops.operator.status.Problem> notes)
      implements ServicePlan {
    public Expose {
      notes = List.copyOf(notes);
    }

    public Expose(ParentRef parent, String hostname, List<String> tags, ProxyTarget target, String proxyClassName,
        boolean loadBalancer, boolean ephemeral, boolean hostnameFromAnnotation, String funnelServeConfig,
        io.tailops.operator.status.Problem funnelDenied) {
      this(parent, hostname, tags, target, proxyClassName, loadBalancer, ephemeral, hostnameFromAnnotation,
          funnelServeConfig, funnelDenied, List.of());
    }

    /** Whether this is an egress proxy (from the cluster to the tailnet). */
    public boolean egress() {
      return target.egress();
    }
  }
}
