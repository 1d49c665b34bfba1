package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** One device (replica) of a {@link Connector}, in its status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ConnectorDevice {
  @JsonPropertyDescription("MagicDNS name of the replica's node.")
  private String hostname;

  @JsonProperty("tailnetIPs")
  @JsonPropertyDescription("Tailnet IPv4 and IPv6 addresses of the replica's node.")
  private List<String> tailnetIPs;

  public ConnectorDevice() {
  }

  public ConnectorDevice(String hostname, List<String> tailnetIPs) {
    this.hostname = hostname;
    this.tailnetIPs = tailnetIPs;
  }

  public String getHostname() {
    return hostname;
  }

  public void setHostname(String hostname) {
    this.hostname = hostname;
  }

  @JsonProperty("tailnetIPs")
  public List<String> getTailnetIPs() {
    return tailnetIPs;
  }

  @JsonProperty("tailnetIPs")
  public void setTailnetIPs(List<String> tailnetIPs) {
    this.tailnetIPs = tailnetIPs;
  }
}
