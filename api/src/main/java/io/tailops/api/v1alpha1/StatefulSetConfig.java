package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.tailops.api.schema.LabelValue;
import java.util.Map;

/** {@code spec.statefulSet}: labels, annotations and pod configuration for the proxy StatefulSet. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StatefulSetConfig {
  @JsonPropertyDescription("Labels added to the StatefulSet. Label keys and values must be valid Kubernetes label keys and values.")
  private Map<String, @LabelValue String> labels;

  @JsonPropertyDescription("Annotations added to the StatefulSet. Keys must be valid annotation keys.")
  private Map<String, String> annotations;

  @JsonPropertyDescription("Configuration for the proxy Pod.")
  private PodConfig pod;

  public Map<String, String> getLabels() {
    return labels;
  }

  public void setLabels(Map<String, String> labels) {
    this.labels = labels;
  }

  public Map<String, String> getAnnotations() {
    return annotations;
  }

  public void setAnnotations(Map<String, String> annotations) {
    this.annotations = annotations;
  }

  public PodConfig getPod() {
    return pod;
  }

  public void setPod(PodConfig pod) {
    this.pod = pod;
  }
}
