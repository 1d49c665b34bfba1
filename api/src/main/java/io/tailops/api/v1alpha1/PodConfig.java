package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodDNSConfig;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.tailops.api.schema.LabelValue;
import java.util.List;
import java.util.Map;

/** {@code spec.statefulSet.pod}: fields applied to the proxy Pod template. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodConfig {
  @JsonPropertyDescription("Labels added to the proxy Pod. Values must be valid label values.")
  private Map<String, @LabelValue String> labels;

  @JsonPropertyDescription("Annotations added to the proxy Pod.")
  private Map<String, String> annotations;

  @JsonPropertyDescription("Proxy Pod's affinity rules. By default no affinity rules are set.")
  private Affinity affinity;

  @JsonPropertyDescription("Configuration for the proxy container running tailscale.")
  private ContainerConfig tailscaleContainer;

  @JsonPropertyDescription("Configuration for the proxy init container that enables forwarding.")
  private ContainerConfig tailscaleInitContainer;

  @JsonPropertyDescription("Proxy Pod's security context. By default no securityContext is set.")
  private PodSecurityContext securityContext;

  @JsonPropertyDescription("Proxy Pod's image pull Secrets.")
  private List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("Proxy Pod's node name.")
  private String nodeName;

  @JsonPropertyDescription("Proxy Pod's node selector.")
  private Map<String, String> nodeSelector;

  @JsonPropertyDescription("Proxy Pod's tolerations.")
  private List<Toleration> tolerations;

  @JsonPropertyDescription("Proxy Pod's topology spread constraints.")
  private List<TopologySpreadConstraint> topologySpreadConstraints;

  @JsonPropertyDescription("PriorityClassName for the proxy Pod.")
  private String priorityClassName;

  @JsonPropertyDescription("DNSPolicy defines how DNS is configured for the proxy Pod: ClusterFirstWithHostNet, ClusterFirst, Default or None.")
  private DnsPolicy dnsPolicy;

  @JsonPropertyDescription("DNSConfig of the proxy Pod.")
  private PodDNSConfig dnsConfig;

  /** The values Kubernetes accepts for a Pod's {@code dnsPolicy}. */
  public enum DnsPolicy {
    ClusterFirstWithHostNet, ClusterFirst, Default, None
  }

  public Map<String, String> getLabels() {
    return labels;
  }

  public void setLabels(Map<String, String> labels) {
    this.labels = labels;
  }

  public Map<String, String> getAnnotations() {
    return annotations;
  }

  public void setAnnotations(Map<String, String> annotations) {
    this.annotations = annotations;
  }

  public Affinity getAffinity() {
    return affinity;
  }

  public void setAffinity(Affinity affinity) {
    this.affinity = affinity;
  }

  public ContainerConfig getTailscaleContainer() {
    return tailscaleContainer;
  }

  public void setTailscaleContainer(ContainerConfig tailscaleContainer) {
    this.tailscaleContainer = tailscaleContainer;
  }

  public ContainerConfig getTailscaleInitContainer() {
    return tailscaleInitContainer;
  }

  public void setTailscaleInitContainer(ContainerConfig tailscaleInitContainer) {
    this.tailscaleInitContainer = tailscaleInitContainer;
  }

  public PodSecurityContext getSecurityContext() {
    return securityContext;
  }

  public void setSecurityContext(PodSecurityContext securityContext) {
    this.securityContext = securityContext;
  }

  public List<LocalObjectReference> getImagePullSecrets() {
    return imagePullSecrets;
  }

  public void setImagePullSecrets(List<LocalObjectReference> imagePullSecrets) {
    this.imagePullSecrets = imagePullSecrets;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public Map<String, String> getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(Map<String, String> nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations;
  }

  public List<TopologySpreadConstraint> getTopologySpreadConstraints() {
    return topologySpreadConstraints;
  }

  public void setTopologySpreadConstraints(List<TopologySpreadConstraint> topologySpreadConstraints) {
    this.topologySpreadConstraints = topologySpreadConstraints;
  }

  public String getPriorityClassName() {
    return priorityClassName;
  }

  public void setPriorityClassName(String priorityClassName) {
    this.priorityClassName = priorityClassName;
  }

  public DnsPolicy getDnsPolicy() {
    return dnsPolicy;
  }

  public void setDnsPolicy(DnsPolicy dnsPolicy) {
    this.dnsPolicy = dnsPolicy;
  }

  public PodDNSConfig getDnsConfig() {
    return dnsConfig;
  }

  public void setDnsConfig(PodDNSConfig dnsConfig) {
    this.dnsConfig = dnsConfig;
  }
}
