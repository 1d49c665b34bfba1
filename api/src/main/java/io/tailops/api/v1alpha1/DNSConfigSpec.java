package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** Desired state of a {@link DNSConfig}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DNSConfigSpec {
  @Required
  @JsonPropertyDescription("The nameserver for the ts.net names of the cluster's egress and Ingress proxies; it is "
      + "always deployed when a DNSConfig exists.")
  private Nameserver nameserver;

  public Nameserver getNameserver() {
    return nameserver;
  }

  public void setNameserver(Nameserver nameserver) {
    this.nameserver = nameserver;
  }
}
