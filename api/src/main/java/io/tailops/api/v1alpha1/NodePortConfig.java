package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Map;

/** {@code spec.staticEndpoints.nodePort}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NodePortConfig {
  @Required
  @Size(min = 1)
  @JsonPropertyDescription("Port ranges to pick NodePorts from.")
  private List<PortRange> ports;

  @JsonPropertyDescription("Node label selector choosing the nodes whose addresses are used.")
  private Map<String, String> selector;

  public List<PortRange> getPorts() {
    return ports;
  }

  public void setPorts(List<PortRange> ports) {
    this.ports = ports;
  }

  public Map<String, String> getSelector() {
    return selector;
  }

  public void setSelector(Map<String, String> selector) {
    this.selector = selector;
  }
}
