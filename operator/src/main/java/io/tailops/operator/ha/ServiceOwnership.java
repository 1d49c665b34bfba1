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
    List<JsonNode> refs;
    try {
      refs = refs(s);
    } catch (IllegalArgumentException e) {
      return new Taken("Tailscale Service " + s.name() + " has an unreadable " + ANNOTATION + " annotation ("
          + e.getMessage() + ")");
    }
    if (refs.isEmpty()) {
      return new Taken("Tailscale Service " + s.name() + " exists, but does not contain owner annotation with owner "
          + "references; not proceeding as this is likely a resource created by something other than the Tailscale "
          + "Kubernetes operator");
    }
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
