package io.tailops.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Where Kubernetes Events go ({@link EventRecorder} in the operator; a list in tests). */
public interface EventSink {
  void record(HasMetadata obj, String type, String reason, String message);

  default void normal(HasMetadata obj, String reason, String message) {
    record(obj, "Normal", reason, message);
  }

  default void warning(HasMetadata obj, String reason, String message) {
    record(obj, "Warning", reason, message);
  }
}
