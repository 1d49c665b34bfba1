package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** A port or an inclusive port range. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PortRange {
  @Required
  @JsonPropertyDescription("First port of the range (or the only port).")
  private Integer port;

  @JsonPropertyDescription("Last port of the range; unset for a single port.")
  private Integer endPort;

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }

  public Integer getEndPort() {
    return endPort;
  }

  public void setEndPort(Integer endPort) {
    this.endPort = endPort;
  }
}
