package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code status.nameserver} of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NameserverStatus {
  @JsonPropertyDescription("Cluster IP of the Service in front of the ts.net nameserver: add it to the cluster DNS as "
      + "the stub nameserver for ts.net. It changes when the DNSConfig is deleted and created again.")
  private String ip;

  public NameserverStatus() {
  }

  public NameserverStatus(String ip) {
    this.ip = ip;
  }

  public String getIp() {
    return ip;
  }

  public void setIp(String ip) {
    this.ip = ip;
  }
}
