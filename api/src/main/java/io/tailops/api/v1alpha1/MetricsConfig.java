package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** {@code spec.metrics}: proxy metrics on port 9002 and an optional Prometheus ServiceMonitor. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.serviceMonitor) && self.serviceMonitor.enable  && !self.enable)",
    message = "ServiceMonitor can only be enabled if metrics are enabled")
public class MetricsConfig {
  @Required
  @JsonPropertyDescription("Enable the metrics endpoint of the proxies at <pod-ip>:9002/metrics.")
  private Boolean enable;

  @JsonPropertyDescription("Create a Prometheus ServiceMonitor for the metrics Service (needs the ServiceMonitor CRD).")
  private ServiceMonitorConfig serviceMonitor;

  public Boolean getEnable() {
    return enable;
  }

  public void setEnable(Boolean enable) {
    this.enable = enable;
  }

  public ServiceMonitorConfig getServiceMonitor() {
    return serviceMonitor;
  }

  public void setServiceMonitor(ServiceMonitorConfig serviceMonitor) {
    this.serviceMonitor = serviceMonitor;
  }
}
