package io.tailops.operator.service;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.OperatorContext;

/** The Service controller: the proxy pipeline for {@link ServiceKind} (a named class, so JOSDK can read its types). */
public final class ServiceController extends ProxyController<Service, ServiceStatus, ServicePlan.Expose> {
  public ServiceController(OperatorContext ctx) {
    super(new ServiceKind(ctx.config(), ctx.controlPlane().capabilities().funnel(), ctx.clock()), ctx);
  }
}
