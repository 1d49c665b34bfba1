package io.tailops.operator.service;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.TailnetDevices;

/** The Service controller: the proxy pipeline for {@link ServiceKind} (a named class, so JOSDK can read its types). */
public final class ServiceController extends ProxyController<Service, ServiceStatus, ServicePlan.Expose> {
  public ServiceController(OperatorContext ctx) {
    super(new ServiceKind(ctx.config(), ctx.controlPlane().capabilities().funnel(), ctx.clock()), ctx);
  }

  /**
   * @param devices the tailnet's devices as the device sweep lists them (egress target checks)
   * @param clusterDomain the cluster's DNS domain (the name an egress Service points at)
   */
  public ServiceController(OperatorContext ctx, TailnetDevices devices, String clusterDomain) {
    super(new ServiceKind(ctx.config(), ctx.controlPlane().capabilities().funnel(), ctx.clock(),
        ctx.controlPlane()::magicDnsDomain, devices, clusterDomain), ctx);
  }
}
