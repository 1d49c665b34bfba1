package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;

/** {@code spec.kubeAPIServer} of a {@link ProxyGroup} of type kube-apiserver. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KubeAPIServerConfig {
  @JsonPropertyDescription("auth (the default) impersonates the sender's tailnet identity in requests to the API "
      + "server; noauth forwards them as they are.")
  private APIServerProxyMode mode;

  @Pattern("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
  @JsonPropertyDescription("Hostname of the API server proxies in the tailnet, a DNS label unique in the tailnet. "
      + "Defaults to the ProxyGroup's name.")
  private String hostname;

  public APIServerProxyMode getMode() {
    return mode;
  }

  public void setMode(APIServerProxyMode mode) {
    this.mode = mode;
  }

  public String getHostname() {
    return hostname;
  }

  public void setHostname(String hostname) {
    this.hostname = hostname;
  }
}
