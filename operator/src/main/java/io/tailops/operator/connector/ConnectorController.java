package io.tailops.operator.connector;

import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorStatus;
import io.tailops.operator.pipeline.ProxyController;
import io.tailops.operator.reconcile.OperatorContext;

/** The Connector controller: the proxy pipeline for {@link ConnectorKind} (a named class, so JOSDK can read its types). */
public final class ConnectorController extends ProxyController<Connector, ConnectorStatus, ConnectorPlan> {
  public ConnectorController(OperatorContext ctx) {
    super(new ConnectorKind(ctx.config().proxyTags(), new ConnectorTailnetChecks(ctx::controlPlane,
        ctx.config().connectors(), ctx.clock()), ctx.controlPlane().capabilities().name(), ctx.clock()), ctx);
  }
}
