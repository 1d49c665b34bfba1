package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.tailops.api.schema.Format;
import java.util.List;

/** {@code spec.subnetRouter} of a {@link Connector}: the routes it advertises. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SubnetRouter {
  @Required
  @Size(min = 1)
  @JsonPropertyDescription("IPv4 or IPv6 CIDR ranges to make available to the tailnet (4via6 routes included).")
  private List<@Format("cidr") String> advertiseRoutes;

  public SubnetRouter() {
  }

  public SubnetRouter(List<String> advertiseRoutes) {
    this.advertiseRoutes = advertiseRoutes;
  }

  public List<String> getAdvertiseRoutes() {
    return advertiseRoutes;
  }

  public void setAdvertiseRoutes(List<String> advertiseRoutes) {
    this.advertiseRoutes = advertiseRoutes;
  }
}
