package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.tailops.api.schema.LabelValue;
import java.util.Map;

/** {@code spec.metrics.serviceMonitor}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ServiceMonitorConfig {
  @Required
  @JsonPropertyDescription("Create a ServiceMonitor for the proxy's metrics Service.")
  private Boolean enable;

  @JsonPropertyDescription("Labels added to the ServiceMonitor. Values must be valid label values.")
  private Map<String, @LabelValue String> labels;

  public Boolean getEnable() {
    return enable;
  }

  public void setEnable(Boolean enable) {
    this.enable = enable;
  }

  public Map<String, String> getLabels() {
    return labels;
  }

  public void setLabels(Map<String, String> labels) {
    this.labels = labels;
  }
}
