package io.tailops.operator.apiproxy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * Who a tailnet caller is, as the LocalAPI's {@code whois} tells it: the node's MagicDNS name and tags, the login name
 * of the user who owns it (meaningless for tagged nodes), and the caller's grants of the capability
 * {@value #CAPABILITY} (from the tailnet policy's {@code grants[].app}).
 *
 * @param grantError set when the capability is present but not in the expected shape; the proxy then refuses the
 *     caller instead of guessing
 * @param capabilities the names of every capability the caller has on the device ({@code CapMap} keys), e.g. the
 *     status page's
 */
public record PeerIdentity(String nodeName, String nodeId, List<String> tags, String loginName,
    List<KubernetesGrant> grants, String grantError, java.util.Set<String> capabilities) {

  /** The peer capability of the Kubernetes API server proxy ({@code tailcfg.PeerCapabilityKubernetes}). */
  public static final String CAPABILITY = "tailscale.com/cap/kubernetes";
  /** Its legacy spelling, still honoured by the official proxy for group impersonation only. */
  public static final String LEGACY_CAPABILITY = "https://" + CAPABILITY;

  private static final ObjectMapper JSON = new ObjectMapper();

  public PeerIdentity {
    tags = List.copyOf(tags);
    grants = List.copyOf(grants);
    capabilities = java.util.Set.copyOf(capabilities);
  }

  public boolean tagged() {
    return !tags.isEmpty();
  }

  /** A short description for logs and status (no secrets: names and tags only). */
  public String describe() {
    return tagged() ? nodeName + " (tags " + String.join(",", tags) + ")" : loginName + " on " + nodeName;
  }

  /**
   * Reads a LocalAPI {@code whois} response ({@code apitype.WhoIsResponse}: {@code Node}, {@code UserProfile},
   * {@code CapMap}).
   */
  public static PeerIdentity fromWhoIs(String json) throws JsonProcessingException {
    JsonNode root = JSON.readTree(json);
    JsonNode node = root.path("Node");
    String name = node.path("Name").asText("");
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    List<String> tags = new ArrayList<>();
    node.path("Tags").forEach(t -> tags.add(t.asText()));
    String login = root.path("UserProfile").path("LoginName").asText("");
    JsonNode caps = root.path("CapMap");
    List<KubernetesGrant> grants = new ArrayList<>();
    String error = null;
    try {
      grants.addAll(KubernetesGrant.parseAll(caps.path(CAPABILITY), false));
      if (grants.isEmpty()) {
        grants.addAll(KubernetesGrant.parseAll(caps.path(LEGACY_CAPABILITY), true));
      }
    } catch (IllegalArgumentException e) {
      grants.clear();
      error = e.getMessage();
    }
    java.util.Set<String> names = new java.util.TreeSet<>();
    caps.fieldNames().forEachRemaining(names::add);
    return new PeerIdentity(name, node.path("StableID").asText(""), tags, login, grants, error, names);
  }
}
