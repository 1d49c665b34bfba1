package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.tailops.api.schema.Format;
import java.util.List;

/** Desired state of a {@link ProxyGroup}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProxyGroupSpec {
  @Required
  @ValidationRule(value = "self == oldSelf", message = "ProxyGroup type is immutable")
  @JsonPropertyDescription("Type of the proxies: egress, ingress or kube-apiserver. Immutable.")
  private ProxyGroupType type;

  @JsonPropertyDescription("Tags the devices are tagged with. Defaults to [tag:k8s]. The operator's own tag must own "
      + "them (tagOwners). Tags cannot be changed once a device exists.")
  private List<@Pattern(Patterns.TAG) String> tags;

  @Min(0)
  @Format("int32")
  @JsonPropertyDescription("Number of replicas of the group's StatefulSet. Defaults to 2.")
  private Integer replicas;

  @Pattern(Patterns.HOSTNAME_PREFIX)
  @JsonPropertyDescription("Hostname prefix of the devices: each device's hostname is this prefix followed by its "
      + "replica's ordinal. 1-62 lower-case letters, digits and dashes, not starting with a dash.")
  private String hostnamePrefix;

  @JsonPropertyDescription("Name of the ProxyClass whose settings apply to the group's resources. Unset: the default "
      + "ProxyClass, if any, else the default configuration.")
  private String proxyClass;

  @JsonProperty("kubeAPIServer")
  @JsonPropertyDescription("Settings of a group of type kube-apiserver (ignored for other types).")
  private KubeAPIServerConfig kubeAPIServer;

  public ProxyGroupType getType() {
    return type;
  }

  public void setType(ProxyGroupType type) {
    this.type = type;
  }

  public List<String> getTags() {
    return tags;
  }

  public void setTags(List<String> tags) {
    this.tags = tags;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public String getHostnamePrefix() {
    return hostnamePrefix;
  }

  public void setHostnamePrefix(String hostnamePrefix) {
    this.hostnamePrefix = hostnamePrefix;
  }

  public String getProxyClass() {
    return proxyClass;
  }

  public void setProxyClass(String proxyClass) {
    this.proxyClass = proxyClass;
  }

  @JsonProperty("kubeAPIServer")
  public KubeAPIServerConfig getKubeAPIServer() {
    return kubeAPIServer;
  }

  @JsonProperty("kubeAPIServer")
  public void setKubeAPIServer(KubeAPIServerConfig kubeAPIServer) {
    this.kubeAPIServer = kubeAPIServer;
  }
}
