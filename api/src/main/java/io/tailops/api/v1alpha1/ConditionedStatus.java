package io.tailops.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * The status of every kind of this group: a list of {@code metav1.Condition}s keyed by type (at most one condition
 * of each type). Lets code that only deals with conditions handle all kinds alike.
 */
public interface ConditionedStatus {
  /** The conditions; never null (an empty list when there are none). */
  List<Condition> getConditions();

  /** Replaces the conditions; null means none. */
  void setConditions(List<Condition> conditions);
}
