package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.nameserver.service} of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NameserverService {
  @JsonProperty("clusterIP")
  @JsonPropertyDescription("Static cluster IP of the nameserver's Service.")
  private String clusterIP;

  @JsonProperty("clusterIP")
  public String getClusterIP() {
    return clusterIP;
  }

  @JsonProperty("clusterIP")
  public void setClusterIP(String clusterIP) {
    this.clusterIP = clusterIP;
  }
}
