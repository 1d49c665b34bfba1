package io.tailops.operator.service;

import io.tailops.operator.proxy.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's DNS domain ({@code cluster.local} unless the cluster says otherwise), found as the official operator
 * finds it: from the search list of the operator pod's {@code /etc/resolv.conf}, which a kubelet writes as
 * {@code <namespace>.svc.<domain> svc.<domain> <domain> ...}. Anything else, or a file that does not parse, means
 * {@code cluster.local}. An egress Service points at {@code <proxy>.<operator namespace>.svc.<domain>}.
 */
public final class ClusterDomain {
  public static final String DEFAULT = "cluster.local";

  private ClusterDomain() {
  }

  /** The domain from a resolv.conf's text, for a pod in {@code namespace}. */
  public static String fromResolvConf(String resolvConf, String namespace) {
    Optional<List<String>> search = searchDomains(resolvConf);
    if (search.isEmpty() || search.get().size() < 3) {
      return DEFAULT;
    }
    List<String> s = search.get();
    if (!s.get(0).startsWith(namespace + ".svc") || !s.get(1).startsWith("svc")) {
      return DEFAULT;
    }
    String second = withoutFinalDot(s.get(1));
    String domain = second.startsWith("svc.") ? second.substring(4) : second;
    return withoutFinalDot(s.get(2)).equalsIgnoreCase(domain) ? domain : DEFAULT;
  }

  /**
   * The search domains, each with the final dot; empty when the file is malformed as tailscale's resolv.conf reader
   * sees it (a {@code nameserver} that is not an address, a {@code search} without a space, a domain that is not a DNS
   * name).
   */
  static Optional<List<String>> searchDomains(String resolvConf) {
    List<String> out = new ArrayList<>();
    for (String raw : resolvConf.split("\n", -1)) {
      int hash = raw.indexOf('#');
      String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
      if (line.startsWith("nameserver")) {
        String rest = line.substring("nameserver".length());
        String ns = rest.strip();
        if (ns.length() == rest.length() || IpAddress.tryParse(ns).isEmpty()) {
          return Optional.empty();
        }
      } else if (line.startsWith("search")) {
        String rest = line.substring("search".length());
        String domains = rest.strip();
        if (domains.length() == rest.length()) {
          return Optional.empty();
        }
        for (String d : domains.split("[ \t]+")) {
          if (d.isEmpty()) {
            continue;
          }
          Optional<String> fqdn = fqdn(d);
          if (fqdn.isEmpty()) {
            return Optional.empty();
          }
          out.add(fqdn.get());
        }
      }
    }
    return Optional.of(out);
  }

  /** {@code name} with the final dot, if every label is 1–63 characters and the whole fits 253 (dnsname.ToFQDN). */
  private static Optional<String> fqdn(String name) {
    String n = withoutFinalDot(name);
    if (n.isEmpty() || n.length() > 253) {
      return Optional.empty();
    }
    for (String label : n.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63) {
        return Optional.empty();
      }
    }
    return Optional.of(n + ".");
  }

  private static String withoutFinalDot(String s) {
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
