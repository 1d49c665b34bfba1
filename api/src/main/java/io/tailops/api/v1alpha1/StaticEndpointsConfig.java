package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** {@code spec.staticEndpoints}: accepted for schema compatibility with the official CRD. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StaticEndpointsConfig {
  @Required
  @JsonPropertyDescription("NodePort Services used as static endpoints of ProxyGroup replicas.")
  private NodePortConfig nodePort;

  public NodePortConfig getNodePort() {
    return nodePort;
  }

  public void setNodePort(NodePortConfig nodePort) {
    this.nodePort = nodePort;
  }
}
