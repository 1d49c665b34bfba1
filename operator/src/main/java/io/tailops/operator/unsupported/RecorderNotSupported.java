package io.tailops.operator.unsupported;

import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.operator.reconcile.OperatorContext;

/**
 * Reports Recorders as not supported yet (condition RecorderReady).
 * Delete this class and its line in {@link UnsupportedKinds} when the kind is implemented.
 */
public final class RecorderNotSupported extends UnsupportedKindReconciler<Recorder> {
  public static final UnsupportedKind KIND = new UnsupportedKind(Recorder.class, ConditionTypes.RECORDER_READY,
      "no tsrecorder is deployed for it, so no SSH session is recorded to it");

  public RecorderNotSupported(OperatorContext ctx) {
    super(ctx, KIND);
  }
}
