package io.tailops.operator.unsupported;

import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.operator.reconcile.OperatorContext;

/**
 * Reports Connectors as not supported yet (condition ConnectorReady).
 * Delete this class and its line in {@link UnsupportedKinds} when the kind is implemented.
 */
public final class ConnectorNotSupported extends UnsupportedKindReconciler<Connector> {
  public static final UnsupportedKind KIND = new UnsupportedKind(Connector.class, ConditionTypes.CONNECTOR_READY,
      "no subnet router, exit node or app connector is deployed for it");

  public ConnectorNotSupported(OperatorContext ctx) {
    super(ctx, KIND);
  }
}
