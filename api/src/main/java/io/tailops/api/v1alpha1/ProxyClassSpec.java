package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Desired state of a {@link ProxyClass}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProxyClassSpec {
  @JsonPropertyDescription("Configuration parameters for the proxy's StatefulSet.")
  private StatefulSetConfig statefulSet;

  @JsonPropertyDescription("Configuration for proxy metrics.")
  private MetricsConfig metrics;

  @JsonProperty("tailscale")
  @JsonPropertyDescription("Tailscale-specific configuration of the proxies.")
  private TailscaleConfig tailscale;

  @JsonPropertyDescription("Use Let's Encrypt's staging environment for the certificates of Ingress proxies.")
  private Boolean useLetsEncryptStagingEnvironment;

  @JsonPropertyDescription("Static endpoints for ProxyGroup replicas (accepted for compatibility; ProxyGroups are not built by this operator).")
  private StaticEndpointsConfig staticEndpoints;

  public StatefulSetConfig getStatefulSet() {
    return statefulSet;
  }

  public void setStatefulSet(StatefulSetConfig statefulSet) {
    this.statefulSet = statefulSet;
  }

  public MetricsConfig getMetrics() {
    return metrics;
  }

  public void setMetrics(MetricsConfig metrics) {
    this.metrics = metrics;
  }

  public TailscaleConfig getTailscale() {
    return tailscale;
  }

  public void setTailscale(TailscaleConfig tailscale) {
    this.tailscale = tailscale;
  }

  public Boolean getUseLetsEncryptStagingEnvironment() {
    return useLetsEncryptStagingEnvironment;
  }

  public void setUseLetsEncryptStagingEnvironment(Boolean useLetsEncryptStagingEnvironment) {
    this.useLetsEncryptStagingEnvironment = useLetsEncryptStagingEnvironment;
  }

  public StaticEndpointsConfig getStaticEndpoints() {
    return staticEndpoints;
  }

  public void setStaticEndpoints(StaticEndpointsConfig staticEndpoints) {
    this.staticEndpoints = staticEndpoints;
  }
}
