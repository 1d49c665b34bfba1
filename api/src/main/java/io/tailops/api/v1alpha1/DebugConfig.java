package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code tailscaleContainer.debug}: tailscaled's debug endpoints on port 9001. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DebugConfig {
  @JsonPropertyDescription("Enable tailscaled's debug endpoints on <pod-ip>:9001. Defaults to false.")
  private Boolean enable;

  public Boolean getEnable() {
    return enable;
  }

  public void setEnable(Boolean enable) {
    this.enable = enable;
  }
}
