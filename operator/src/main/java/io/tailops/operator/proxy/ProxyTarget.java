package io.tailops.operator.proxy;

/** Where a proxy forwards traffic: from the tailnet into the cluster (ingress), or from the cluster to the tailnet. */
public sealed interface ProxyTarget {

  /** L3 ingress to a Service's cluster IP ({@code TS_DEST_IP}); kernel mode. */
  record ClusterIp(String ip) implements ProxyTarget {
  }

  /** L3 ingress to a DNS name, for ExternalName Services ({@code TS_EXPERIMENTAL_DEST_DNS_NAME}); kernel mode. */
  record DnsName(String name) implements ProxyTarget {
  }

  /** L7 ingress through a serve config ({@code TS_SERVE_CONFIG}); userspace mode unless cluster traffic is forwarded. */
  record Serve(String serveConfigJson) implements ProxyTarget {
  }

  /**
   * Egress to an address in the tailnet, or behind one of its subnet routers ({@code TS_TAILNET_TARGET_IP}); kernel
   * mode: containerboot forwards everything that reaches the pod's address to it.
   */
  record TailnetIp(String ip) implements ProxyTarget {
  }

  /**
   * Egress to a device by its MagicDNS name, with the trailing dot ({@code TS_TAILNET_TARGET_FQDN}); kernel mode:
   * containerboot resolves the name from its netmap and follows the device when its addresses change.
   */
  record TailnetFqdn(String fqdn) implements ProxyTarget {
  }

  /** Whether the proxy carries cluster traffic to the tailnet (an egress proxy). */
  default boolean egress() {
    return this instanceof TailnetIp || this instanceof TailnetFqdn;
  }

  /**
   * A Connector: no target of its own; the device advertises routes (a subnet router's, an app connector's
   * preconfigured ones, an exit node's default routes) and may act as an app connector. Kernel mode.
   *
   * @param advertiseRoutes the config's {@code AdvertiseRoutes}, in order
   * @param appConnector the config's {@code AppConnector.Advertise}
   */
  record Connector(java.util.List<String> advertiseRoutes, boolean appConnector) implements ProxyTarget {
    public Connector {
      advertiseRoutes = java.util.List.copyOf(advertiseRoutes);
    }
  }
}
