package io.tailops.operator.ingress;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.OperatorContext;
import java.util.List;

/** The Ingress controller: the proxy pipeline for {@link IngressKind} (a named class, so JOSDK can read its types). */
public final class IngressController extends ProxyController<Ingress, List<IngressLoadBalancerIngress>,
    IngressPlan.Expose> {
  public IngressController(OperatorContext ctx, RedirectProbe redirectProbe) {
    super(new IngressKind(ctx.config(), ctx.controlPlane().capabilities().httpsCertificates(), redirectProbe), ctx);
  }
}
