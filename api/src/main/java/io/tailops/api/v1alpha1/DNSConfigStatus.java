package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.schema.ListMap;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a {@link DNSConfig}: the {@code NameserverReady} condition and the nameserver's address. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DNSConfigStatus implements ConditionedStatus {
  @ListMap(keys = "type")
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonPropertyDescription("Status conditions of the DNSConfig; the known type is NameserverReady.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("State of the nameserver's cluster resources.")
  private NameserverStatus nameserver;

  @Override
  public List<Condition> getConditions() {
    return conditions;
  }

  @Override
  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public NameserverStatus getNameserver() {
    return nameserver;
  }

  public void setNameserver(NameserverStatus nameserver) {
    this.nameserver = nameserver;
  }
}
