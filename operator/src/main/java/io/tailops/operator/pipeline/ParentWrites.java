package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.function.UnaryOperator;

/** The pipeline's writes to the parent object: its finalizer and its status. */
public interface ParentWrites<P extends HasMetadata> {
  /** Adds {@code finalizer}; returns the parent as written (or as it was when it had it). */
  P addFinalizer(P parent, String finalizer);

  /** Removes {@code finalizer}; returns the parent as written (or as it was). */
  P removeFinalizer(P parent, String finalizer);

  /**
   * Writes the change {@code change} makes to the parent itself (not its status), e.g. an egress Service pointed at its
   * proxy; applied again to a fresh copy after a conflict. Returns the parent as written.
   */
  P update(P parent, UnaryOperator<P> change);

  /** Writes the status {@code withStatus} makes of the parent (applied again to a fresh copy after a conflict). */
  void writeStatus(P parent, UnaryOperator<P> withStatus);
}
