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
 * A set of Tailscale devices acting as proxies: a highly available group of egress or ingress proxies that serves
 * the Services annotated with {@code tailscale.com/proxy-group}, or a group of Kubernetes API server proxies.
 * Cluster-scoped; field-compatible with the official operator's {@code proxygroups.tailscale.com} at v1.94.2.
 */
@Group(ProxyClass.GROUP)
@Version(ProxyClass.VERSION)
@Kind(ProxyGroup.KIND)
@Plural("proxygroups")
@Singular("proxygroup")
@ShortNames("pg")
@AdditionalPrinterColumn(name = "Status", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type == \"ProxyGroupReady\")].reason",
    getDescription = "Status of the deployed ProxyGroup resources.")
@AdditionalPrinterColumn(name = "URL", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.url",
    getDescription = "URL of the kube-apiserver proxy advertised by the ProxyGroup devices, if any. Only applies to "
        + "ProxyGroups of type kube-apiserver.")
@AdditionalPrinterColumn(name = "Type", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".spec.type",
    getDescription = "ProxyGroup type.")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class ProxyGroup extends CustomResource<ProxyGroupSpec, ProxyGroupStatus> {
  public static final String KIND = "ProxyGroup";
  public static final String CRD_NAME = "proxygroups." + ProxyClass.GROUP;

  @Override
  @Required
  public ProxyGroupSpec getSpec() {
    return super.getSpec();
  }

  @Override
  protected ProxyGroupStatus initStatus() {
    return new ProxyGroupStatus();
  }
}
