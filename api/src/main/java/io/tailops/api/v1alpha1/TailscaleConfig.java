package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.tailscale}: settings of the tailscaled running in the proxies. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TailscaleConfig {
  @JsonPropertyDescription("Accept subnet routes advertised by other nodes in the tailnet.")
  private Boolean acceptRoutes;

  @JsonPropertyDescription("Extension of this operator: register the proxies as ephemeral devices, removed by the "
      + "control plane when they go offline. See the README for the trade-offs.")
  private Boolean ephemeral;

  public Boolean getAcceptRoutes() {
    return acceptRoutes;
  }

  public void setAcceptRoutes(Boolean acceptRoutes) {
    this.acceptRoutes = acceptRoutes;
  }

  public Boolean getEphemeral() {
    return ephemeral;
  }

  public void setEphemeral(Boolean ephemeral) {
    this.ephemeral = ephemeral;
  }
}
