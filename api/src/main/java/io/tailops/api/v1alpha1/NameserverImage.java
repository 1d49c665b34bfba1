package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** {@code spec.nameserver.image} of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NameserverImage {
  @JsonPropertyDescription("Image repository. Defaults to tailscale/k8s-nameserver.")
  private String repo;

  @JsonPropertyDescription("Image tag. Defaults to unstable.")
  private String tag;

  public String getRepo() {
    return repo;
  }

  public void setRepo(String repo) {
    this.repo = repo;
  }

  public String getTag() {
    return tag;
  }

  public void setTag(String tag) {
    this.tag = tag;
  }
}
