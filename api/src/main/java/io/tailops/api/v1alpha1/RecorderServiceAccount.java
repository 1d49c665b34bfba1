package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.Map;

/** {@code spec.statefulSet.pod.serviceAccount} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderServiceAccount {
  @Pattern("^[a-z0-9]([a-z0-9-.]{0,61}[a-z0-9])?$")
  @Size(max = 253)
  @JsonPropertyDescription("Name of the ServiceAccount to create. Defaults to the Recorder's name.")
  private String name;

  @JsonPropertyDescription("Annotations of the ServiceAccount, e.g. eks.amazonaws.com/role-arn for S3 access through "
      + "IAM roles for service accounts instead of static credentials.")
  private Map<String, String> annotations;

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public Map<String, String> getAnnotations() {
    return annotations;
  }

  public void setAnnotations(Map<String, String> annotations) {
    this.annotations = annotations;
  }
}
