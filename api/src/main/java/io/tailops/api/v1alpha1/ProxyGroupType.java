package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What the proxies of a {@link ProxyGroup} do. */
public enum ProxyGroupType {
  /** Proxies from the cluster to tailnet targets (ExternalName Services annotated tailscale.com/proxy-group). */
  @JsonProperty("egress")
  EGRESS("egress"),
  /** Proxies from the tailnet to cluster Services and Ingresses. */
  @JsonProperty("ingress")
  INGRESS("ingress"),
  /** Kubernetes API server proxies. */
  @JsonProperty("kube-apiserver")
  KUBE_APISERVER("kube-apiserver");

  private final String value;

  ProxyGroupType(String value) {
    this.value = value;
  }

  /** The value in the object, e.g. {@code kube-apiserver}. */
  public String value() {
    return value;
  }
}
