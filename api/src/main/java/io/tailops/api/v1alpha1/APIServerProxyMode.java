package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How a Kubernetes API server proxy forwards requests. */
public enum APIServerProxyMode {
  /** Requests are impersonated as the sender's tailnet identity. */
  @JsonProperty("auth")
  AUTH,
  /** Requests are forwarded unchanged. */
  @JsonProperty("noauth")
  NOAUTH
}
