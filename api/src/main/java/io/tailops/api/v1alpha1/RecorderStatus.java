package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.schema.ListMap;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a {@link Recorder}: the {@code RecorderReady} condition and its devices. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderStatus implements ConditionedStatus {
  @ListMap(keys = "type")
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonPropertyDescription("Status conditions of the Recorder; the known type is RecorderReady.")
  private List<Condition> conditions = new ArrayList<>();

  @ListMap(keys = "hostname")
  @JsonPropertyDescription("The tailnet devices of the Recorder's StatefulSet.")
  private List<RecorderTailnetDevice> devices;

  @Override
  public List<Condition> getConditions() {
    return conditions;
  }

  @Override
  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public List<RecorderTailnetDevice> getDevices() {
    return devices;
  }

  public void setDevices(List<RecorderTailnetDevice> devices) {
    this.devices = devices;
  }
}
