package io.tailops.controlplane;

import java.util.List;
import java.util.Map;

/**
 * The parts of the tailnet policy file the operator checks.
 *
 * @param tagOwners tag → owners (users, groups, autogroups or tags)
 * @param nodeAttrs node attribute grants
 * @param appConnectors the app connector definitions ({@code nodeAttrs} entries' {@code app} capability
 *     {@code tailscale.com/app-connectors})
 */
public record TailnetPolicy(Map<String, List<String>> tagOwners, List<NodeAttr> nodeAttrs,
    List<AppConnector> appConnectors) {
  /** The node capability that defines app connectors. */
  public static final String APP_CONNECTORS_CAP = "tailscale.com/app-connectors";

  public TailnetPolicy {
    tagOwners = tagOwners == null ? Map.of() : Map.copyOf(tagOwners);
    nodeAttrs = nodeAttrs == null ? List.of() : List.copyOf(nodeAttrs);
    appConnectors = appConnectors == null ? List.of() : List.copyOf(appConnectors);
  }

  public TailnetPolicy(Map<String, List<String>> tagOwners, List<NodeAttr> nodeAttrs) {
    this(tagOwners, nodeAttrs, List.of());
  }

  /**
   * One app connector definition: traffic to {@code domains} goes through the devices named by {@code connectors}
   * (tags, or {@code *} for every advertising app connector).
   */
  public record AppConnector(String name, List<String> connectors, List<String> domains) {
    public AppConnector {
      connectors = connectors == null ? List.of() : List.copyOf(connectors);
      domains = domains == null ? List.of() : List.copyOf(domains);
    }
  }

  /** The app connector definitions that a device with {@code tags} serves. */
  public List<AppConnector> appConnectorsFor(List<String> tags) {
    return appConnectors.stream().filter(a -> a.connectors().contains("*")
        || a.connectors().stream().anyMatch(tags::contains)).toList();
  }

  /** One {@code nodeAttrs} entry: the targets (tags, users, …) and the attributes granted to them. */
  public record NodeAttr(List<String> target, List<String> attr) {
    public NodeAttr {
      target = target == null ? List.of() : List.copyOf(target);
      attr = attr == null ? List.of() : List.copyOf(attr);
    }
  }

  /** Whether {@code owner} may apply {@code tag} (directly listed as an owner of the tag). */
  public boolean tagOwnedBy(String tag, String owner) {
    return tagOwners.getOrDefault(tag, List.of()).contains(owner);
  }

  /** Whether {@code tag} is defined in {@code tagOwners}. */
  public boolean defines(String tag) {
    return tagOwners.containsKey(tag);
  }

  /** Whether a device with {@code tags} gets node attribute {@code attr} (target "*" matches every device). */
  public boolean grantsAttr(List<String> tags, String attr) {
    for (NodeAttr na : nodeAttrs) {
      if (!na.attr().contains(attr)) {
        continue;
      }
      if (na.target().contains("*") || na.target().stream().anyMatch(tags::contains)) {
        return true;
      }
    }
    return false;
  }
}
