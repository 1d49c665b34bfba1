package io.tailops.controlplane;

import java.time.Instant;
import java.util.List;

/**
 * A device (node) in the tailnet.
 *
 * @param nodeId stable node ID, e.g. {@code nAbC123CNTRL} (headscale: the decimal node ID)
 * @param legacyId the numeric ID of the Tailscale API, if any
 * @param name MagicDNS name without the trailing dot, e.g. {@code web.tailnet-abc.ts.net}
 * @param hostname the hostname the device asked for
 * @param addresses tailnet IP addresses
 * @param tags ACL tags
 * @param lastSeen when the control plane last heard from the device, if known
 * @param online whether the device is connected to the control plane right now, if known
 * @param created when the device was registered, if known
 */
public record Device(String nodeId, String legacyId, String name, String hostname, List<String> addresses,
    List<String> tags, Instant lastSeen, Boolean online, Instant created) {
  public Device {
    addresses = addresses == null ? List.of() : List.copyOf(addresses);
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** The first DNS label of {@link #name()} (what MagicDNS resolves), falling back to the hostname. */
  public String dnsLabel() {
    if (name != null && !name.isEmpty()) {
      int dot = name.indexOf('.');
      return dot < 0 ? name : name.substring(0, dot);
    }
    return hostname;
  }

  /** Whether the device carries at least one of the given tags. */
  public boolean hasAnyTag(List<String> candidates) {
    return tags.stream().anyMatch(candidates::contains);
  }
}
