package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.schema.ListMap;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a {@link ProxyClass}: the {@code ProxyClassReady} condition. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class ProxyClassStatus implements ConditionedStatus {
  @ListMap(keys = "type")
  @JsonPropertyDescription("List of status conditions; ProxyClassReady tells whether the class is valid and usable.")
  private List<Condition> conditions = new ArrayList<>();

  @Override
  public List<Condition> getConditions() {
    return conditions;
  }

  @Override
  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }
}
