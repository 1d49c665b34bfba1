package io.tailops.controlplane;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Tailscale Service (the API's "VIP service", wire contract E4–E7): one stable name {@code svc:<dns-label>} and
 * address pair that several devices advertise, each serving it through its serve config.
 *
 * @param name {@code svc:<dns-label>}
 * @param addrs its addresses, IPv4 first then IPv6; empty on a create (the control plane allocates them); a later
 *     update must send them back
 * @param comment free text
 * @param annotations key/value metadata, kept byte for byte (the operator's owner references live here)
 * @param ports {@code tcp:443}, {@code tcp:80}, or {@code do-not-validate}
 * @param tags the tags whose devices may advertise it
 */
public record TailscaleService(String name, List<String> addrs, String comment, Map<String, String> annotations,
    List<String> ports, List<String> tags) {
  /** The prefix of every Tailscale Service name. */
  public static final String PREFIX = "svc:";

  public TailscaleService {
    addrs = addrs == null ? List.of() : List.copyOf(addrs);
    comment = comment == null ? "" : comment;
    annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(
        annotations));
    ports = ports == null ? List.of() : List.copyOf(ports);
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** The name without {@code svc:}, the first label of its MagicDNS name. */
  public String dnsLabel() {
    return name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
  }

  /** The IPv4 address, or null before the control plane allocated one. */
  public String ipv4() {
    return addrs.stream().filter(a -> !a.contains(":")).findFirst().orElse(null);
  }

  /** The IPv6 address, or null. */
  public String ipv6() {
    return addrs.stream().filter(a -> a.contains(":")).findFirst().orElse(null);
  }

  /** This service with other addresses. */
  public TailscaleService withAddrs(List<String> addresses) {
    return new TailscaleService(name, addresses, comment, annotations, ports, tags);
  }

  /** This service with other annotations. */
  public TailscaleService withAnnotations(Map<String, String> a) {
    return new TailscaleService(name, addrs, comment, a, ports, tags);
  }
}
