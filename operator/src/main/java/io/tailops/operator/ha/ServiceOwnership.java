package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.controlplane.TailscaleService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who owns a Tailscale Service, as the official operators record it (so that several clusters can share one):
 * annotation {@code tailscale.com/owner-references} = {@code {"ownerRefs":[{"operatorID":"<stable ID of the operator's
 * device>"}]}}. A service without the annotation was made by someone else and is never touched; a service owned by a
 * ProxyGroup's API server proxy (a {@code resource} in its first reference) cannot be shared. Pure: decides, never
 * calls the API.
 */
public final class ServiceOwnership {
  public static final String ANNOTATION = "tailscale.com/owner-references";
  /** The comment the official operator writes on the services it manages. */
  public static final String COMMENT = "This Tailscale Service is managed by the Tailscale Kubernetes Operator, "
      + "do not modify";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ServiceOwnership() {
  }

  /** What taking (or keeping) a service means. */
  public sealed interface Claim {
  }

  /** The service is ours to write, with these annotations. */
  public record Ours(Map<String, String> annotations) implements Claim {
  }

  /** The service belongs to someone else: why, for the user. */
  public record Taken(String why) implements Claim {
  }

  /** A service's owner references, or why it can be nobody's to share (unreadable, or none at all). */
  private record OwnerRefs(List<JsonNode> refs, Taken refusal) {
  }

  private static OwnerRefs ownerRefs(TailscaleService s) {
    List<JsonNode> refs;
    try {
      refs = refs(s);
    } catch (IllegalArgumentException e) {
      return new OwnerRefs(List.of(), new Taken("Tailscale Service " + s.name() + " has an unreadable " + ANNOTATION
          + " annotation (" + e.getMessage() + ")"));
    }
    if (refs.isEmpty()) {
      return new OwnerRefs(refs, new Taken("Tailscale Service " + s.name() + " exists, but does not contain owner "
          + "annotation with owner references; not proceeding as this is likely a resource created by something other "
          + "than the Tailscale Kubernetes operator"));
    }
    return new OwnerRefs(refs, null);
  }

  /**
   * Whether this operator may use {@code existing} (absent: it creates the service) and the annotations to write.
   *
   * @param operatorId this operator's ID for new references
   * @param ourIds every ID this operator is known by (its device's, a former one)
   */
  public static Claim claim(Optional<TailscaleService> existing, String operatorId, Set<String> ourIds) {
    if (existing.isEmpty()) {
      return new Ours(Map.of(ANNOTATION, render(List.of(ref(operatorId)))));
    }
    TailscaleService s = existing.get();
    OwnerRefs owners = ownerRefs(s);
    if (owners.refusal() != null) {
      return owners.refusal();
    }
    List<JsonNode> refs = owners.refs();
    boolean mine = refs.stream().anyMatch(r -> ourIds.contains(r.path("operatorID").asText())
        && !r.has("resource"));
    if (mine && refs.stream().anyMatch(r -> operatorId.equals(r.path("operatorID").asText()))) {
      return new Ours(s.annotations());
    }
    if (refs.get(0).has("resource")) {
      return new Taken("Tailscale Service " + s.name() + " is owned by another resource: "
          + refs.get(0).get("resource") + "; cannot be reused");
    }
    List<JsonNode> updated = new ArrayList<>();
    for (JsonNode r : refs) {
      if (!ourIds.contains(r.path("operatorID").asText())) {
        updated.add(r); // another cluster's operator
      }
    }
    updated.add(ref(operatorId));
    Map<String, String> annotations = new LinkedHashMap<>(s.annotations());
    annotations.put(ANNOTATION, render(updated));
    return new Ours(annotations);
  }

  /** What releasing a service means for this operator. */
  public sealed interface Release {
  }

  /** This operator was its only owner: delete it. */
  public record Delete() implements Release {
  }

  /** Other operators still use it: write it back with these annotations (ours removed). */
  public record KeepFor(Map<String, String> annotations) implements Release {
  }

  /** Not ours: leave it. */
  public record NotOurs() implements Release {
  }

  public static Release release(TailscaleService s, Set<String> ourIds) {
    List<JsonNode> refs;
    try {
      refs = refs(s);
    } catch (IllegalArgumentException e) {
      return new NotOurs();
    }
    List<JsonNode> others = refs.stream().filter(r -> !ourIds.contains(r.path("operatorID").asText())).toList();
    if (refs.isEmpty() || others.size() == refs.size()) {
      return new NotOurs();
    }
    if (others.isEmpty()) {
      return new Delete();
    }
    Map<String, String> annotations = new LinkedHashMap<>(s.annotations());
    annotations.put(ANNOTATION, render(others));
    return new KeepFor(annotations);
  }

  /** Whether two services name the same owners (compared as the official operator does: case-insensitively). */
  public static boolean sameOwners(Map<String, String> a, Map<String, String> b) {
    String x = a.getOrDefault(ANNOTATION, "");
    String y = b.getOrDefault(ANNOTATION, "");
    return !x.isEmpty() && x.equalsIgnoreCase(y);
  }

  /**
   * Whether this operator may use {@code existing} for the API server proxies of one ProxyGroup, which own their
   * service exclusively (official {@code exclusiveOwnerAnnotations}): one reference, this operator's, naming the group
   * ({@code resource}: kind {@code ProxyGroup}, its name and UID). A service without references, with another
   * operator's, without a resource (an Ingress's or Service's) or with another resource is someone else's.
   */
  public static Claim exclusiveClaim(Optional<TailscaleService> existing, String operatorId, Set<String> ourIds,
      String group, String groupUid) {
    if (existing.isEmpty()) {
      return new Ours(Map.of(ANNOTATION, render(List.of(groupRef(operatorId, group, groupUid)))));
    }
    TailscaleService s = existing.get();
    OwnerRefs owners = ownerRefs(s);
    if (owners.refusal() != null) {
      return owners.refusal();
    }
    List<JsonNode> refs = owners.refs();
    if (refs.size() > 1 || !ourIds.contains(refs.get(0).path("operatorID").asText())) {
      return new Taken("Tailscale Service " + s.name() + " is already owned by other operator(s) and cannot be shared "
          + "across multiple clusters; configure a different Service name to continue");
    }
    JsonNode resource = refs.get(0).get("resource");
    if (resource == null || resource.isNull()) {
      return new Taken("Tailscale Service " + s.name() + " exists, but does not reference an owning resource; not "
          + "proceeding as this is likely a Service already owned by an Ingress");
    }
    if (!"ProxyGroup".equals(resource.path("kind").asText()) || !groupUid.equals(resource.path("uid").asText())) {
      return new Taken("Tailscale Service " + s.name() + " is already owned by another resource: " + resource
          + "; configure a different Service name to continue");
    }
    Map<String, String> annotations = new LinkedHashMap<>(s.annotations());
    // The group's name may have changed (informational); the reference names this operator as it is known now.
    annotations.put(ANNOTATION, render(List.of(groupRef(operatorId, group, groupUid))));
    return new Ours(annotations);
  }

  /** Whether {@code s} is owned by this operator for the ProxyGroup of UID {@code groupUid} (and nothing else). */
  public static boolean ownedByGroup(TailscaleService s, Set<String> ourIds, String groupUid) {
    try {
      List<JsonNode> refs = refs(s);
      return refs.size() == 1 && ourIds.contains(refs.get(0).path("operatorID").asText())
          && "ProxyGroup".equals(refs.get(0).path("resource").path("kind").asText())
          && groupUid.equals(refs.get(0).path("resource").path("uid").asText());
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static JsonNode groupRef(String operatorId, String group, String groupUid) {
    ObjectNode r = JSON.createObjectNode();
    r.put("operatorID", operatorId);
    ObjectNode res = r.putObject("resource");
    res.put("kind", "ProxyGroup");
    res.put("name", group);
    res.put("uid", groupUid);
    return r;
  }

  static List<JsonNode> refs(TailscaleService s) {
    String raw = s.annotations().get(ANNOTATION);
    if (raw == null || raw.isEmpty()) {
      return List.of();
    }
    try {
      JsonNode n = JSON.readTree(raw);
      List<JsonNode> out = new ArrayList<>();
      n.path("ownerRefs").forEach(out::add);
      return out;
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON");
    }
  }

  private static JsonNode ref(String operatorId) {
    ObjectNode r = JSON.createObjectNode();
    r.put("operatorID", operatorId);
    return r;
  }

  /** {@code {"ownerRefs":[...]}} as Go's encoder writes it. */
  static String render(List<JsonNode> refs) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode a = root.putArray("ownerRefs");
    refs.forEach(a::add);
    return root.toString();
  }
}
