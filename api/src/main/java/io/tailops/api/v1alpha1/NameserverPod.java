package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;

/** {@code spec.nameserver.pod} of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NameserverPod {
  @JsonPropertyDescription("Tolerations of the nameserver's Pods.")
  private List<Toleration> tolerations;

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations;
  }
}
