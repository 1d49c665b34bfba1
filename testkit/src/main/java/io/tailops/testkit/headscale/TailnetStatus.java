package io.tailops.testkit.headscale;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The parts of {@code tailscale status --json} the tests look at.
 *
 * @param backendState {@code NoState}, {@code NeedsLogin}, {@code Starting}, {@code Running}, {@code Stopped}, ...
 * @param self this node
 * @param peers the other nodes in the netmap
 * @param magicDnsSuffix e.g. {@code tailnet.test}
 * @param health health warnings, as tailscaled words them
 * @param raw the whole document
 */
public record TailnetStatus(String backendState, Peer self, List<Peer> peers, String magicDnsSuffix,
    List<String> health, JsonNode raw) {

  public TailnetStatus {
    peers = peers == null ? List.of() : List.copyOf(peers);
    health = health == null ? List.of() : List.copyOf(health);
  }

  /**
   * A node in the status.
   *
   * @param id the StableID (headscale: the decimal node id)
   * @param hostName the hostname the node reported
   * @param dnsName MagicDNS name with the trailing dot, e.g. {@code svc-node.tailnet.test.}
   * @param tailscaleIPs tailnet addresses
   * @param tags ACL tags
   * @param online control's view of whether the node is connected
   * @param curAddr the direct {@code ip:port} in use, empty when relayed or idle
   * @param relay the home DERP region code
   * @param addrs the node's advertised endpoints
   */
  public record Peer(String id, String hostName, String dnsName, List<String> tailscaleIPs, List<String> tags,
      boolean online, String curAddr, String relay, List<String> addrs) {
    public Peer {
      tailscaleIPs = tailscaleIPs == null ? List.of() : List.copyOf(tailscaleIPs);
      tags = tags == null ? List.of() : List.copyOf(tags);
      addrs = addrs == null ? List.of() : List.copyOf(addrs);
    }

    /** The first label of the MagicDNS name (what MagicDNS resolves without the suffix). */
    public String dnsLabel() {
      if (dnsName == null || dnsName.isEmpty()) {
        return hostName;
      }
      int dot = dnsName.indexOf('.');
      return dot < 0 ? dnsName : dnsName.substring(0, dot);
    }

    /** The MagicDNS name without the trailing dot. */
    public String fqdn() {
      return dnsName != null && dnsName.endsWith(".") ? dnsName.substring(0, dnsName.length() - 1) : dnsName;
    }

    /** The first IPv4 address, or null. */
    public String ipv4() {
      return tailscaleIPs.stream().filter(a -> !a.contains(":")).findFirst().orElse(null);
    }
  }

  public boolean isRunning() {
    return "Running".equals(backendState);
  }

  /** The peer whose DNS label, FQDN or hostname is {@code name}. */
  public Optional<Peer> peer(String name) {
    return peers.stream()
        .filter(p -> name.equals(p.dnsLabel()) || name.equals(p.fqdn()) || name.equals(p.dnsName()))
        .findFirst()
        .or(() -> peers.stream().filter(p -> name.equals(p.hostName())).findFirst());
  }

  static TailnetStatus parse(JsonNode n) {
    List<Peer> peers = new ArrayList<>();
    JsonNode pm = n.path("Peer");
    if (pm.isObject()) {
      pm.forEach(p -> peers.add(peer(p)));
    }
    JsonNode self = n.get("Self");
    return new TailnetStatus(n.path("BackendState").asText(), self == null || self.isNull() ? null : peer(self),
        peers, n.path("MagicDNSSuffix").asText(null), strings(n.get("Health")), n);
  }

  private static Peer peer(JsonNode p) {
    return new Peer(p.path("ID").asText(), p.path("HostName").asText(), p.path("DNSName").asText(),
        strings(p.get("TailscaleIPs")), strings(p.get("Tags")), p.path("Online").asBoolean(false),
        p.path("CurAddr").asText(""), p.path("Relay").asText(""), strings(p.get("Addrs")));
  }

  private static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n != null && n.isArray()) {
      n.forEach(e -> out.add(e.asText()));
    }
    return out;
  }
}
