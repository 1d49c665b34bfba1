package io.tailops.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A Tailscale node deployed in the cluster that acts as a subnet router, an exit node, or an app connector.
 * Cluster-scoped; field-compatible with the official operator's {@code connectors.tailscale.com} at v1.94.2.
 */
@Group(ProxyClass.GROUP)
@Version(ProxyClass.VERSION)
@Kind(Connector.KIND)
@Plural("connectors")
@Singular("connector")
@ShortNames("cn")
@AdditionalPrinterColumn(name = "SubnetRoutes", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.subnetRoutes",
    getDescription = "CIDR ranges exposed to tailnet by a subnet router defined via this Connector instance.")
@AdditionalPrinterColumn(name = "IsExitNode", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.isExitNode", getDescription = "Whether this Connector instance defines an exit node.")
@AdditionalPrinterColumn(name = "IsAppConnector", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.isAppConnector", getDescription = "Whether this Connector instance is an app connector.")
@AdditionalPrinterColumn(name = "Status", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type == \"ConnectorReady\")].reason",
    getDescription = "Status of the deployed Connector resources.")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class Connector extends CustomResource<ConnectorSpec, ConnectorStatus> {
  public static final String KIND = "Connector";
  public static final String CRD_NAME = "connectors." + ProxyClass.GROUP;

  @Override
  @Required
  public ConnectorSpec getSpec() {
    return super.getSpec();
  }

  @Override
  protected ConnectorStatus initStatus() {
    return new ConnectorStatus();
  }
}
