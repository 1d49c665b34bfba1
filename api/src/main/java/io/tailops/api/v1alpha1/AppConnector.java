package io.tailops.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.tailops.api.schema.Format;
import java.util.List;

/** {@code spec.appConnector} of a {@link Connector}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AppConnector {
  @Size(min = 1)
  @JsonPropertyDescription("Optional preconfigured routes for the app connector's domains; without them routes are "
      + "discovered as traffic flows.")
  private List<@Format("cidr") String> routes;

  public List<String> getRoutes() {
    return routes;
  }

  public void setRoutes(List<String> routes) {
    this.routes = routes;
  }
}
