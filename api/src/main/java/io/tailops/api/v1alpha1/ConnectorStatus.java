package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.schema.ListMap;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a {@link Connector}: the {@code ConnectorReady} condition, its routes and devices. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConnectorStatus implements ConditionedStatus {
  @ListMap(keys = "type")
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonPropertyDescription("Status conditions of the Connector; the known type is ConnectorReady.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The routes currently advertised to the tailnet, comma-separated.")
  private String subnetRoutes;

  @JsonProperty("isExitNode")
  @JsonPropertyDescription("Whether the Connector acts as an exit node.")
  private Boolean isExitNode;

  @JsonProperty("isAppConnector")
  @JsonPropertyDescription("Whether the Connector acts as an app connector.")
  private Boolean isAppConnector;

  @JsonProperty("tailnetIPs")
  @JsonPropertyDescription("Tailnet IPv4 and IPv6 addresses of the Connector's (first) node.")
  private List<String> tailnetIPs;

  @JsonPropertyDescription("MagicDNS name of the Connector's (first) node; see devices for all replicas.")
  private String hostname;

  @JsonPropertyDescription("One entry per device (replica) of the Connector.")
  private List<ConnectorDevice> devices;

  @Override
  public List<Condition> getConditions() {
    return conditions;
  }

  @Override
  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public String getSubnetRoutes() {
    return subnetRoutes;
  }

  public void setSubnetRoutes(String subnetRoutes) {
    this.subnetRoutes = subnetRoutes;
  }

  @JsonProperty("isExitNode")
  public Boolean getIsExitNode() {
    return isExitNode;
  }

  @JsonProperty("isExitNode")
  public void setIsExitNode(Boolean isExitNode) {
    this.isExitNode = isExitNode;
  }

  @JsonProperty("isAppConnector")
  public Boolean getIsAppConnector() {
    return isAppConnector;
  }

  @JsonProperty("isAppConnector")
  public void setIsAppConnector(Boolean isAppConnector) {
    this.isAppConnector = isAppConnector;
  }

  @JsonProperty("tailnetIPs")
  public List<String> getTailnetIPs() {
    return tailnetIPs;
  }

  @JsonProperty("tailnetIPs")
  public void setTailnetIPs(List<String> tailnetIPs) {
    this.tailnetIPs = tailnetIPs;
  }

  public String getHostname() {
    return hostname;
  }

  public void setHostname(String hostname) {
    this.hostname = hostname;
  }

  public List<ConnectorDevice> getDevices() {
    return devices;
  }

  public void setDevices(List<ConnectorDevice> devices) {
    this.devices = devices;
  }
}
