package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** One tailnet device of a {@link ProxyGroup}, in its status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TailnetDevice {
  @Required
  @JsonPropertyDescription("MagicDNS name of the device.")
  private String hostname;

  @JsonProperty("tailnetIPs")
  @JsonPropertyDescription("Tailnet IPv4 and IPv6 addresses of the device.")
  private List<String> tailnetIPs;

  @JsonPropertyDescription("Static endpoints (ip:port) by which tailnet peers can reach the device directly.")
  private List<String> staticEndpoints;

  public TailnetDevice() {
  }

  public TailnetDevice(String hostname, List<String> tailnetIPs) {
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

  public List<String> getStaticEndpoints() {
    return staticEndpoints;
  }

  public void setStaticEndpoints(List<String> staticEndpoints) {
    this.staticEndpoints = staticEndpoints;
  }
}
