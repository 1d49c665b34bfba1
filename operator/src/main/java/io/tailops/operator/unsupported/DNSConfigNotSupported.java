package io.tailops.operator.unsupported;

import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.operator.reconcile.OperatorContext;

/**
 * Reports DNSConfigs as not supported yet (condition NameserverReady).
 * Delete this class and its line in {@link UnsupportedKinds} when the kind is implemented.
 */
public final class DNSConfigNotSupported extends UnsupportedKindReconciler<DNSConfig> {
  public static final UnsupportedKind KIND = new UnsupportedKind(DNSConfig.class, ConditionTypes.NAMESERVER_READY,
      "no ts.net nameserver is deployed for it, and status.nameserver.ip stays empty");

  public DNSConfigNotSupported(OperatorContext ctx) {
    super(ctx, KIND);
  }
}
