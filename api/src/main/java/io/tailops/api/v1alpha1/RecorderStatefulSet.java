package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/** {@code spec.statefulSet} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderStatefulSet {
  @JsonPropertyDescription("Labels added to the StatefulSet, merged with the operator's own.")
  private Map<String, String> labels;

  @JsonPropertyDescription("Annotations added to the StatefulSet, merged with the operator's own.")
  private Map<String, String> annotations;

  @JsonPropertyDescription("Settings of the Recorder's Pods.")
  private RecorderPod pod;

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

  public RecorderPod getPod() {
    return pod;
  }

  public void setPod(RecorderPod pod) {
    this.pod = pod;
  }
}
