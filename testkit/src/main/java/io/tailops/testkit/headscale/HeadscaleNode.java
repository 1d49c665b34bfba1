package io.tailops.testkit.headscale;

import java.time.Instant;
import java.util.List;

/**
 * A node as headscale's REST API ({@code /api/v1/node}) shows it.
 *
 * @param id decimal node id: also the node's StableID, which containerboot stores as {@code device_id}
 * @param name the raw hostname the client reported
 * @param givenName the DNS label, unique in the tailnet ({@code name}, or {@code name-1}, ... on a clash)
 * @param ipAddresses tailnet addresses (IPv4 first)
 * @param tags ACL tags (a tagged node has no user)
 * @param online whether the node is connected to headscale now
 * @param lastSeen last contact, if known
 * @param createdAt registration time, if known
 * @param user owning user's name ({@code tagged-devices} or null for tagged nodes)
 * @param registerMethod e.g. {@code REGISTER_METHOD_AUTH_KEY}
 */
public record HeadscaleNode(String id, String name, String givenName, List<String> ipAddresses, List<String> tags,
    boolean online, Instant lastSeen, Instant createdAt, String user, String registerMethod) {
  public HeadscaleNode {
    ipAddresses = ipAddresses == null ? List.of() : List.copyOf(ipAddresses);
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** The MagicDNS name without the trailing dot, e.g. {@code default-web.tailnet.test}. */
  public String fqdn(String baseDomain) {
    return givenName + "." + baseDomain;
  }

  /** The first IPv4 address, or null. */
  public String ipv4() {
    return ipAddresses.stream().filter(a -> !a.contains(":")).findFirst().orElse(null);
  }
}
