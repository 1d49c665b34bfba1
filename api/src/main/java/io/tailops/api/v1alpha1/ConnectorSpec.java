package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.tailops.api.schema.Format;
import java.util.List;

/** Desired state of a {@link Connector}: what the Tailscale node does and how it appears in the tailnet. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.subnetRouter) || (has(self.exitNode) && self.exitNode == true) || has(self.appConnector)",
    message = "A Connector needs to have at least one of exit node, subnet router or app connector configured.")
@ValidationRule(value = "!((has(self.subnetRouter) || (has(self.exitNode)  && self.exitNode == true)) && has(self.appConnector))",
    message = "The appConnector field is mutually exclusive with exitNode and subnetRouter fields.")
@ValidationRule(value = "!(has(self.hostname) && has(self.replicas) && self.replicas > 1)",
    message = "The hostname field cannot be specified when replicas is greater than 1.")
@ValidationRule(value = "!(has(self.hostname) && has(self.hostnamePrefix))",
    message = "The hostname and hostnamePrefix fields are mutually exclusive.")
public class ConnectorSpec {
  @JsonPropertyDescription("Tags the Tailscale node is tagged with. Defaults to [tag:k8s]. The operator's own tag "
      + "must own them (tagOwners). Tags cannot be changed once the node exists.")
  private List<@Pattern(Patterns.TAG) String> tags;

  @Pattern(Patterns.HOSTNAME)
  @JsonPropertyDescription("Tailnet hostname of the node; defaults to <connector name>-connector. 2-63 lower-case "
      + "letters, digits and dashes, not starting or ending with a dash. Only for a single replica.")
  private String hostname;

  @Pattern(Patterns.HOSTNAME_PREFIX)
  @JsonPropertyDescription("Hostname prefix of the replicas: each replica's hostname is this prefix followed by its "
      + "ordinal. 1-62 lower-case letters, digits and dashes, not starting with a dash.")
  private String hostnamePrefix;

  @JsonPropertyDescription("Name of the ProxyClass whose settings apply to the resources created for this "
      + "Connector. Unset: the default configuration.")
  private String proxyClass;

  @JsonPropertyDescription("Subnet routes the node advertises to the tailnet as a subnet router. Mutually exclusive "
      + "with appConnector.")
  private SubnetRouter subnetRouter;

  @JsonPropertyDescription("Makes the node a Tailscale app connector (its domains and permissions are configured in "
      + "the admin console). Mutually exclusive with exitNode and subnetRouter.")
  private AppConnector appConnector;

  @JsonPropertyDescription("Makes the node a Tailscale exit node. Defaults to false. Mutually exclusive with "
      + "appConnector.")
  private Boolean exitNode;

  @Min(0)
  @Format("int32")
  @JsonPropertyDescription("Number of devices (replicas) for high availability. Defaults to 1.")
  private Integer replicas;

  public List<String> getTags() {
    return tags;
  }

  public void setTags(List<String> tags) {
    this.tags = tags;
  }

  public String getHostname() {
    return hostname;
  }

  public void setHostname(String hostname) {
    this.hostname = hostname;
  }

  public String getHostnamePrefix() {
    return hostnamePrefix;
  }

  public void setHostnamePrefix(String hostnamePrefix) {
    this.hostnamePrefix = hostnamePrefix;
  }

  public String getProxyClass() {
    return proxyClass;
  }

  public void setProxyClass(String proxyClass) {
    this.proxyClass = proxyClass;
  }

  public SubnetRouter getSubnetRouter() {
    return subnetRouter;
  }

  public void setSubnetRouter(SubnetRouter subnetRouter) {
    this.subnetRouter = subnetRouter;
  }

  public AppConnector getAppConnector() {
    return appConnector;
  }

  public void setAppConnector(AppConnector appConnector) {
    this.appConnector = appConnector;
  }

  public Boolean getExitNode() {
    return exitNode;
  }

  public void setExitNode(Boolean exitNode) {
    this.exitNode = exitNode;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }
}
