package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.tailops.api.schema.Format;

/** {@code spec.nameserver} of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Nameserver {
  @JsonPropertyDescription("Nameserver image. Defaults to tailscale/k8s-nameserver:unstable.")
  private NameserverImage image;

  @JsonPropertyDescription("Settings of the nameserver's Service.")
  private NameserverService service;

  @JsonPropertyDescription("Settings of the nameserver's Pods.")
  private NameserverPod pod;

  @Min(0)
  @Format("int32")
  @JsonPropertyDescription("Number of nameserver Pods. Defaults to 1.")
  private Integer replicas;

  public NameserverImage getImage() {
    return image;
  }

  public void setImage(NameserverImage image) {
    this.image = image;
  }

  public NameserverService getService() {
    return service;
  }

  public void setService(NameserverService service) {
    this.service = service;
  }

  public NameserverPod getPod() {
    return pod;
  }

  public void setPod(NameserverPod pod) {
    this.pod = pod;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }
}
