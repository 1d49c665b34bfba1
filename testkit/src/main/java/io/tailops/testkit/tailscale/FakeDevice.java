package io.tailops.testkit.tailscale;

import java.time.Instant;
import java.util.List;

/**
 * Snapshot of a device (node) in {@link FakeTailscaleApi}'s tailnet.
 *
 * @param nodeId stable node ID, e.g. {@code nAbC123dEf4CNTRL}
 * @param id legacy numeric ID (decimal string)
 * @param name MagicDNS name, {@code <dns label>.<tailnet domain>} (no trailing dot)
 * @param hostname the hostname the device asked for
 * @param addresses one 100.x IPv4 and one fd7a:115c:a1e0:: IPv6 address
 * @param tags ACL tags (empty for user-owned devices)
 * @param user owner shown by the API ({@code tagged-devices} for tagged devices)
 * @param created registration time
 * @param lastSeen when the device was last connected
 * @param online whether the device is connected to the control plane now
 * @param ephemeral whether it was registered with an ephemeral key
 * @param authorized whether the device is authorized
 * @param authKeyId the key it registered with, or null for devices added with
 *     {@link FakeTailscaleApi#addForeignDevice(String, List)}
 */
public record FakeDevice(String nodeId, String id, String name, String hostname, List<String> addresses,
    List<String> tags, String user, Instant created, Instant lastSeen, boolean online, boolean ephemeral,
    boolean authorized, String authKeyId) {
  public FakeDevice {
    addresses = List.copyOf(addresses);
    tags = List.copyOf(tags);
  }

  /** The first label of {@link #name()}, e.g. {@code web-1}. */
  public String dnsLabel() {
    int dot = name.indexOf('.');
    return dot < 0 ? name : name.substring(0, dot);
  }

  /** The IPv4 address. */
  public String ipv4() {
    return addresses.get(0);
  }
}
