package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/** One tailnet device of a {@link Recorder}, in its status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderTailnetDevice {
  @Required
  @JsonPropertyDescription("MagicDNS name of the device.")
  private String hostname;

  @JsonProperty("tailnetIPs")
  @JsonPropertyDescription("Tailnet IPv4 and IPv6 addresses of the device.")
  private List<String> tailnetIPs;

  @JsonPropertyDescription("HTTPS MagicDNS URL of the recorder UI, when enabled; reachable from the same tailnet.")
  private String url;

  public RecorderTailnetDevice() {
  }

  public RecorderTailnetDevice(String hostname, List<String> tailnetIPs, String url) {
    this.hostname = hostname;
    this.tailnetIPs = tailnetIPs;
    this.url = url;
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

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }
}
