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
 * Makes the MagicDNS names of the cluster's egress and Ingress proxies resolvable inside the cluster: the operator
 * deploys a nameserver for ts.net names and reports its Service IP in {@code status.nameserver.ip}, to be added as
 * a stub nameserver to the cluster DNS. A singleton: create at most one. Cluster-scoped; field-compatible with the
 * official operator's {@code dnsconfigs.tailscale.com} at v1.94.2.
 */
@Group(ProxyClass.GROUP)
@Version(ProxyClass.VERSION)
@Kind(DNSConfig.KIND)
@Plural("dnsconfigs")
@Singular("dnsconfig")
@ShortNames("dc")
@AdditionalPrinterColumn(name = "NameserverIP", type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.nameserver.ip", getDescription = "Service IP address of the nameserver")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class DNSConfig extends CustomResource<DNSConfigSpec, DNSConfigStatus> {
  public static final String KIND = "DNSConfig";
  public static final String CRD_NAME = "dnsconfigs." + ProxyClass.GROUP;

  @Override
  @Required
  public DNSConfigSpec getSpec() {
    return super.getSpec();
  }

  @Override
  protected DNSConfigStatus initStatus() {
    return new DNSConfigStatus();
  }
}
