package io.tailops.operator.proxygroup;

import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupStatus;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.OperatorContext;

/** The JOSDK controller of ProxyGroups (the type arguments tell JOSDK the primary resource). */
public final class ProxyGroupController extends ProxyController<ProxyGroup, ProxyGroupStatus,
    ProxyGroupKind.Observation> {

  public ProxyGroupController(OperatorContext ctx) {
    super(new ProxyGroupKind(ctx.config(), ctx.clock(), name -> ctx.client().serviceAccounts()
        .inNamespace(ctx.config().namespace()).withName(name).get() != null), ctx);
  }
}
