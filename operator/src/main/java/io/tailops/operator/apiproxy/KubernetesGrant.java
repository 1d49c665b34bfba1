package io.tailops.operator.apiproxy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One value of the {@value PeerIdentity#CAPABILITY} capability in a caller's grants ({@code kubetypes.KubernetesCapRule}
 * of the official operator): the groups to impersonate ({@code impersonate.groups}) and the session-recording asks
 * ({@code recorder}: recorder tags, {@code recorderAddrs}: their addresses as control resolves them,
 * {@code enforceRecorder}: fail closed, {@code enableEvents}: record API requests as events).
 *
 * @param legacy read from the legacy capability name, for which only the groups count (as upstream)
 */
public record KubernetesGrant(List<String> impersonateGroups, List<String> recorders, List<String> recorderAddrs,
    boolean enforceRecorder, boolean enableEvents, boolean legacy) {

  public KubernetesGrant {
    impersonateGroups = List.copyOf(impersonateGroups);
    recorders = List.copyOf(recorders);
    recorderAddrs = List.copyOf(recorderAddrs);
  }

  /** Whether this grant asks for session recording at all. */
  public boolean asksForRecording() {
    return !legacy && (!recorders.isEmpty() || !recorderAddrs.isEmpty() || enforceRecorder || enableEvents);
  }

  /**
   * The values of one capability in a {@code CapMap} (a JSON array of objects, or missing).
   *
   * @throws IllegalArgumentException naming what is wrong, when the value is not in the expected shape
   */
  static List<KubernetesGrant> parseAll(JsonNode values, boolean legacy) {
    List<KubernetesGrant> out = new ArrayList<>();
    if (values == null || values.isMissingNode() || values.isNull()) {
      return out;
    }
    String cap = legacy ? PeerIdentity.LEGACY_CAPABILITY : PeerIdentity.CAPABILITY;
    if (!values.isArray()) {
      throw new IllegalArgumentException("the grant capability " + cap + " is not a list of objects");
    }
    for (JsonNode v : values) {
      if (!v.isObject()) {
        throw new IllegalArgumentException("a value of the grant capability " + cap + " is not an object: " + v);
      }
      JsonNode imp = v.path("impersonate");
      if (!imp.isMissingNode() && !imp.isNull() && !imp.isObject()) {
        throw new IllegalArgumentException(cap + ": impersonate must be an object such as {\"groups\": [\"...\"]}");
      }
      out.add(new KubernetesGrant(strings(imp.path("groups"), cap, "impersonate.groups"),
          strings(v.path("recorder"), cap, "recorder"), strings(v.path("recorderAddrs"), cap, "recorderAddrs"),
          bool(v.path("enforceRecorder"), cap, "enforceRecorder"), bool(v.path("enableEvents"), cap, "enableEvents"),
          legacy));
    }
    return out;
  }

  private static List<String> strings(JsonNode n, String cap, String field) {
    List<String> out = new ArrayList<>();
    if (n.isMissingNode() || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException(cap + ": " + field + " must be a list of strings");
    }
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw new IllegalArgumentException(cap + ": " + field + " must be a list of strings");
      }
      out.add(e.asText());
    }
    return out;
  }

  private static boolean bool(JsonNode n, String cap, String field) {
    if (n.isMissingNode() || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw new IllegalArgumentException(cap + ": " + field + " must be true or false");
    }
    return n.asBoolean();
  }
}
