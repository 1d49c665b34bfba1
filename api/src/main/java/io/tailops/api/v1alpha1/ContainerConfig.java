package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import java.util.List;

/** {@code tailscaleContainer} / {@code tailscaleInitContainer}: overlays applied to a proxy container. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ContainerConfig {
  @JsonPropertyDescription("List of environment variables appended to the container's env (after the operator's own).")
  private List<EnvVarConfig> env;

  @JsonPropertyDescription("Container image, including registry and tag.")
  private String image;

  @JsonPropertyDescription("Image pull policy: Always, Never or IfNotPresent.")
  private PullPolicy imagePullPolicy;

  @JsonPropertyDescription("Container resource requirements.")
  private ResourceRequirements resources;

  @JsonPropertyDescription("Container security context.")
  private SecurityContext securityContext;

  @JsonPropertyDescription("Debug endpoints of the tailscale container (not allowed on the init container).")
  private DebugConfig debug;

  /** Image pull policies. */
  public enum PullPolicy {
    Always, Never, IfNotPresent
  }

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

  public PullPolicy getImagePullPolicy() {
    return imagePullPolicy;
  }

  public void setImagePullPolicy(PullPolicy imagePullPolicy) {
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

  public DebugConfig getDebug() {
    return debug;
  }

  public void setDebug(DebugConfig debug) {
    this.debug = debug;
  }
}
