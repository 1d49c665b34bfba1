package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares what the operator wants with what the API server has, field by field, ignoring what the server adds
 * (defaults, status, metadata it maintains): "desired ⊆ live". Scalars must be equal; objects must have every field the
 * operator sets equal, while fields it does not set are ignored; lists must have the same length and be equal element
 * by element. Maps whose keys are the content ({@code selector}, {@code nodeSelector}, {@code matchLabels}) must be
 * equal as a whole, while labels and annotations may carry more keys than the operator sets (other tools add some).
 * A value the server omits when empty ({@code false}, {@code ""}, {@code 0}, {@code {}}, {@code []}) equals absent,
 * and resource quantities compare by amount ({@code 0.5} = {@code 500m}).
 */
public final class Drift {
  /** Maps compared as a whole (extra keys change meaning). */
  static final Set<String> EXACT_MAPS = Set.of("selector", "nodeSelector", "matchLabels");
  /** Parents of quantity values. */
  static final Set<String> QUANTITY_MAPS = Set.of("requests", "limits");
  /** At most this many differences are named. */
  static final int MAX_PATHS = 8;
  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  private Drift() {
  }

  /**
   * The paths where {@code live} does not have what {@code desired} sets, e.g. {@code spec.replicas} or
   * {@code spec.template.spec.containers[tailscale].env}; empty when nothing differs.
   *
   * @param desired the desired object (or part of it), as built by the operator
   * @param live the live object (or the same part of it)
   * @param root the path of these parts ("" for whole objects)
   */
  public static List<String> differences(Object desired, Object live, String root) {
    List<String> out = new ArrayList<>();
    JsonNode d = tree(desired);
    JsonNode l = tree(live);
    compare(d, l, root, "", out);
    return out;
  }

  /** {@code obj} as the API server would see it (fabric8's JSON), or null. */
  public static JsonNode tree(Object obj) {
    if (obj == null || obj instanceof JsonNode) {
      return (JsonNode) obj;
    }
    return JSON.convertValue(obj, JsonNode.class);
  }

  /** {@code paths} for a message: at most {@link #MAX_PATHS}, then how many more. */
  public static String describe(List<String> paths) {
    if (paths.size() <= MAX_PATHS) {
      return String.join(", ", paths);
    }
    return String.join(", ", paths.subList(0, MAX_PATHS)) + " and " + (paths.size() - MAX_PATHS) + " more";
  }

  private static void compare(JsonNode desired, JsonNode live, String path, String key, List<String> out) {
    if (desired == null || desired.isNull() || desired.isMissingNode()) {
      return;
    }
    if (live == null || live.isNull() || live.isMissingNode()) {
      if (!isEmpty(desired)) {
        out.add(path);
      }
      return;
    }
    if (desired.isObject()) {
      if (!live.isObject()) {
        out.add(path);
        return;
      }
      List<String> inner = EXACT_MAPS.contains(key) ? new ArrayList<>() : out;
      if (EXACT_MAPS.contains(key) && live.size() != desired.size()) {
        inner.add(path);
      }
      for (Map.Entry<String, JsonNode> f : desired.properties()) {
        String child = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
        if (QUANTITY_MAPS.contains(key)) {
          if (!sameQuantity(f.getValue(), live.get(f.getKey()))) {
            inner.add(child);
          }
          continue;
        }
        compare(f.getValue(), live.get(f.getKey()), child, f.getKey(), inner);
      }
      if (inner != out && !inner.isEmpty()) {
        out.add(path); // a selector is one value: named as a whole
      }
      return;
    }
    if (desired.isArray()) {
      if (!live.isArray() || live.size() != desired.size()) {
        out.add(path);
        return;
      }
      for (int i = 0; i < desired.size(); i++) {
        JsonNode e = desired.get(i);
        JsonNode name = e.isObject() ? e.get("name") : null;
        String element = path + "[" + (name != null && name.isTextual() ? name.asText() : Integer.toString(i)) + "]";
        List<String> inner = new ArrayList<>();
        compare(e, live.get(i), element, key, inner);
        for (String p : inner) {
          // A name/value pair (an environment variable) is named as a whole: env[TS_DEST_IP].
          boolean pair = p.equals(element + ".value") || p.startsWith(element + ".valueFrom");
          if (!pair || !out.contains(element)) {
            out.add(pair ? element : p);
          }
        }
      }
      return;
    }
    if (!desired.asText().equals(live.asText())) {
      out.add(path);
    }
  }

  private static boolean isEmpty(JsonNode n) {
    return n.isNull() || (n.isContainerNode() && n.size() == 0) || (n.isBoolean() && !n.asBoolean())
        || (n.isTextual() && n.asText().isEmpty()) || (n.isNumber() && n.asDouble() == 0);
  }

  private static boolean sameQuantity(JsonNode desired, JsonNode live) {
    if (desired == null || desired.isNull()) {
      return true;
    }
    if (live == null || live.isNull()) {
      return false;
    }
    try {
      BigDecimal a = Quantity.getAmountInBytes(new Quantity(desired.asText()));
      BigDecimal b = Quantity.getAmountInBytes(new Quantity(live.asText()));
      return a.compareTo(b) == 0;
    } catch (RuntimeException e) {
      return desired.asText().equals(live.asText());
    }
  }
}
