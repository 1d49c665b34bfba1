package io.tailops.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A set of configuration parameters applied to the proxies the operator creates for Services and Ingresses that
 * name it with the {@code tailscale.com/proxy-class} label or annotation. Cluster-scoped, field-compatible with the
 * official operator's {@code proxyclasses.tailscale.com} at v1.94.2.
 */
@Group(ProxyClass.GROUP)
@Version(ProxyClass.VERSION)
@Kind(ProxyClass.KIND)
@Plural("proxyclasses")
@Singular("proxyclass")
@AdditionalPrinterColumn(name = "Status", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type == \"ProxyClassReady\")].reason",
    getDescription = "Status of the ProxyClass.")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class ProxyClass extends CustomResource<ProxyClassSpec, ProxyClassStatus> {
  public static final String GROUP = "tailscale.com";
  public static final String VERSION = "v1alpha1";
  public static final String CRD_NAME = "proxyclasses." + GROUP;
  public static final String KIND = "ProxyClass";

  @Override
  @Required
  public ProxyClassSpec getSpec() {
    return super.getSpec();
  }

  @Override
  protected ProxyClassSpec initSpec() {
    return new ProxyClassSpec();
  }

  @Override
  protected ProxyClassStatus initStatus() {
    return new ProxyClassStatus();
  }
}
