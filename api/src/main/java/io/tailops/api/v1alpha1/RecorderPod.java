package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** {@code spec.statefulSet.pod} of a {@link Recorder}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderPod {
  @JsonPropertyDescription("Labels added to the Recorder's Pods, merged with the operator's own.")
  private Map<String, String> labels;

  @JsonPropertyDescription("Annotations added to the Recorder's Pods, merged with the operator's own.")
  private Map<String, String> annotations;

  @JsonPropertyDescription("Affinity rules of the Recorder's Pods. None by default.")
  private Affinity affinity;

  @JsonPropertyDescription("Settings of the container running tsrecorder.")
  private RecorderContainer container;

  @JsonPropertyDescription("Security context of the Recorder's Pods. None by default.")
  private PodSecurityContext securityContext;

  @JsonPropertyDescription("Image pull Secrets of the Recorder's Pods.")
  private List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("Node selector of the Recorder's Pods. None by default.")
  private Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations of the Recorder's Pods. None by default.")
  private List<Toleration> tolerations;

  @JsonPropertyDescription("The ServiceAccount created for the Recorder's Pods (by default named after the Recorder).")
  private RecorderServiceAccount serviceAccount;

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

  public RecorderContainer getContainer() {
    return container;
  }

  public void setContainer(RecorderContainer container) {
    this.container = container;
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

  public RecorderServiceAccount getServiceAccount() {
    return serviceAccount;
  }

  public void setServiceAccount(RecorderServiceAccount serviceAccount) {
    this.serviceAccount = serviceAccount;
  }
}
