package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/** {@code spec.statefulSet.pod.container} of a {@link Recorder}: the tsrecorder container. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RecorderContainer {
  @JsonPropertyDescription("Environment variables of the container; they take precedence over the operator's own.")
  private List<EnvVarConfig> env;

  @JsonPropertyDescription("Container image with tag. Defaults to docker.io/tailscale/tsrecorder with the operator's "
      + "version as tag.")
  private String image;

  @JsonPropertyDescription("Image pull policy: Always, Never or IfNotPresent. Defaults to Always.")
  private ContainerConfig.PullPolicy imagePullPolicy;

  @JsonPropertyDescription("Resource requirements of the container. None by default.")
  private ResourceRequirements resources;

  @JsonPropertyDescription("Security context of the container. None by default.")
  private SecurityContext securityContext;

  public List<EnvVarConfig> getEnv() {
    return env;
  }

  public void setEnv(List<EnvVarConfig> env) {
    this.env = env;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public ContainerConfig.PullPolicy getImagePullPolicy() {
    return imagePullPolicy;
  }

  public void setImagePullPolicy(ContainerConfig.PullPolicy imagePullPolicy) {
    this.imagePullPolicy = imagePullPolicy;
  }

  public ResourceRequirements getResources() {
    return resources;
  }

  public void setResources(ResourceRequirements resources) {
    this.resources = resources;
  }

  public SecurityContext getSecurityContext() {
    return securityContext;
  }

  public void setSecurityContext(SecurityContext securityContext) {
    this.securityContext = securityContext;
  }
}
