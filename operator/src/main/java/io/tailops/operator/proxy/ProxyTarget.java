package io.tailops.operator.proxy;

/** Where a proxy forwards tailnet traffic. */
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
