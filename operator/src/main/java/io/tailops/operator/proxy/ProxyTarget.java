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
}
