package io.tailops.operator.dns;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.tailops.operator.proxy.IpAddress;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The pod addresses a proxy's DNS record points at, read as the official dns-records reconciler reads them: from the
 * EndpointSlices of the proxy's headless Service, only endpoints that are ready (a {@code ready} or {@code serving}
 * condition that is explicitly false, or {@code terminating} explicitly true, excludes one), IPv4 and IPv6 apart (an
 * address that does not match its slice's family is skipped, an IPv6 zone is cut off).
 *
 * @param ipv4 sorted
 * @param ipv6 sorted
 */
public record ProxyAddresses(Set<String> ipv4, Set<String> ipv6) {
  public ProxyAddresses {
    ipv4 = Set.copyOf(new TreeSet<>(ipv4));
    ipv6 = Set.copyOf(new TreeSet<>(ipv6));
  }

  public boolean isEmpty() {
    return ipv4.isEmpty() && ipv6.isEmpty();
  }

  /** The ready addresses of {@code slices} (the headless Service's, label {@code kubernetes.io/service-name}). */
  public static ProxyAddresses of(Collection<EndpointSlice> slices) {
    Set<String> v4 = new TreeSet<>();
    Set<String> v6 = new TreeSet<>();
    for (EndpointSlice slice : slices) {
      if (slice.getEndpoints() == null) {
        continue;
      }
      for (Endpoint ep : slice.getEndpoints()) {
        if (!ready(ep) || ep.getAddresses() == null) {
          continue;
        }
        for (String address : ep.getAddresses()) {
          if ("IPv4".equals(slice.getAddressType()) && isIpv4(address)) {
            v4.add(address);
          } else if ("IPv6".equals(slice.getAddressType()) && isIpv6(address)) {
            int zone = address.indexOf('%');
            v6.add(zone < 0 ? address : address.substring(0, zone));
          }
        }
      }
    }
    return new ProxyAddresses(v4, v6);
  }

  /**
   * The cluster IPs of an egress ProxyGroup's ClusterIP Service ({@code spec.clusterIPs}, else {@code spec.clusterIP}),
   * which its record points at (the Service maps the ports to the group's pods); none while it has none.
   */
  public static ProxyAddresses ofClusterIps(Service svc) {
    Set<String> v4 = new TreeSet<>();
    Set<String> v6 = new TreeSet<>();
    var spec = svc.getSpec();
    List<String> ips = spec == null ? List.of() : spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
        ? spec.getClusterIPs() : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
    for (String ip : ips) {
      if (isIpv4(ip)) {
        v4.add(ip);
      } else if (isIpv6(ip)) {
        v6.add(ip);
      }
    }
    return new ProxyAddresses(v4, v6);
  }

  /** Sorted IPv4 addresses. */
  public List<String> ipv4List() {
    return List.copyOf(new TreeSet<>(ipv4));
  }

  /** Sorted IPv6 addresses. */
  public List<String> ipv6List() {
    return List.copyOf(new TreeSet<>(ipv6));
  }

  static boolean ready(Endpoint ep) {
    var c = ep.getConditions();
    if (c == null) {
      return true;
    }
    return !Boolean.FALSE.equals(c.getReady()) && !Boolean.FALSE.equals(c.getServing())
        && !Boolean.TRUE.equals(c.getTerminating());
  }

  private static boolean isIpv4(String s) {
    return !s.contains(":") && IpAddress.tryParse(s).map(IpAddress::isIpv4).orElse(false);
  }

  private static boolean isIpv6(String s) {
    return s.contains(":") && IpAddress.tryParse(s).isPresent();
  }
}
