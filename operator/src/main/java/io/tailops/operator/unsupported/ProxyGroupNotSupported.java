package io.tailops.operator.unsupported;

import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.operator.reconcile.OperatorContext;

/**
 * Reports ProxyGroups as not supported yet (condition ProxyGroupReady).
 * Delete this class and its line in {@link UnsupportedKinds} when the kind is implemented.
 */
public final class ProxyGroupNotSupported extends UnsupportedKindReconciler<ProxyGroup> {
  public static final UnsupportedKind KIND = new UnsupportedKind(ProxyGroup.class, ConditionTypes.PROXY_GROUP_READY,
      "no proxies are deployed for it, and the Services and Ingresses that name it with tailscale.com/proxy-group "
          + "are not served through it");

  public ProxyGroupNotSupported(OperatorContext ctx) {
    super(ctx, KIND);
  }
}
