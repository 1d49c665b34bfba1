package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.schema.ListMap;
import java.util.ArrayList;
import java.util.List;

/**
 * Observed state of a {@link ProxyGroup}: the {@code ProxyGroupReady} and {@code ProxyGroupAvailable} conditions (and,
 * for kube-apiserver groups, {@code KubeAPIServerProxyValid} and {@code KubeAPIServerProxyConfigured}), its devices
 * and the API server proxy's URL.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProxyGroupStatus implements ConditionedStatus {
  @ListMap(keys = "type")
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonPropertyDescription("Status conditions of the ProxyGroup: ProxyGroupReady (all proxies ready), "
      + "ProxyGroupAvailable (at least one ready), and for kube-apiserver groups KubeAPIServerProxyValid and "
      + "KubeAPIServerProxyConfigured.")
  private List<Condition> conditions = new ArrayList<>();

  @ListMap(keys = "hostname")
  @JsonPropertyDescription("The tailnet devices of the group's StatefulSet.")
  private List<TailnetDevice> devices;

  @JsonPropertyDescription("URL of the API server proxy advertised by the devices (kube-apiserver groups only).")
  private String url;

  @Override
  public List<Condition> getConditions() {
    return conditions;
  }

  @Override
  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public List<TailnetDevice> getDevices() {
    return devices;
  }

  public void setDevices(List<TailnetDevice> devices) {
    this.devices = devices;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }
}
