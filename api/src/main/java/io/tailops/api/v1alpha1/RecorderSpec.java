package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.tailops.api.schema.Format;
import java.util.List;

/** Desired state of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(self.replicas > 1 && (!has(self.storage) || !has(self.storage.s3)))",
    message = "S3 storage must be used when deploying multiple Recorder replicas")
public class RecorderSpec {
  @JsonPropertyDescription("Settings of the StatefulSet the operator deploys for the Recorder.")
  private RecorderStatefulSet statefulSet;

  @JsonPropertyDescription("Tags the device is tagged with. Defaults to [tag:k8s]. The operator's own tag must own "
      + "them (tagOwners). Tags cannot be changed once the device exists.")
  private List<@Pattern(Patterns.TAG) String> tags;

  @JsonProperty("enableUI")
  @JsonPropertyDescription("Serve the recorder UI (lists and plays recorded sessions) at https://<MagicDNS name of "
      + "the recorder>. Defaults to false. Needed when no S3 storage is set, to reach the recordings.")
  private Boolean enableUI;

  @JsonPropertyDescription("Where recordings are stored: by default a local ephemeral volume (lost with the Pod), or "
      + "an S3-compatible bucket.")
  private Storage storage;

  @Min(0)
  @Format("int32")
  @Default("1")
  @JsonPropertyDescription("Number of tsrecorder instances. Defaults to 1; more than one needs S3 storage.")
  private Integer replicas;

  public RecorderStatefulSet getStatefulSet() {
    return statefulSet;
  }

  public void setStatefulSet(RecorderStatefulSet statefulSet) {
    this.statefulSet = statefulSet;
  }

  public List<String> getTags() {
    return tags;
  }

  public void setTags(List<String> tags) {
    this.tags = tags;
  }

  @JsonProperty("enableUI")
  public Boolean getEnableUI() {
    return enableUI;
  }

  @JsonProperty("enableUI")
  public void setEnableUI(Boolean enableUI) {
    this.enableUI = enableUI;
  }

  public Storage getStorage() {
    return storage;
  }

  public void setStorage(Storage storage) {
    this.storage = storage;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }
}
