package io.tailops.operator.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether labels match a label selector in its string form ({@code a=b,c!=d,e in (x,y),f notin (z),g,!h}), as the API
 * server applies it to a watch: requirements joined by commas, all of which must hold.
 */
public final class LabelSelectors {
  private LabelSelectors() {}

  /** True for a null or blank selector (everything matches). */
  public static boolean matches(String selector, Map<String, String> labels) {
    if (selector == null || selector.isBlank()) {
      return true;
    }
    Map<String, String> l = labels == null ? Map.of() : labels;
    for (String requirement : requirements(selector)) {
      if (!holds(requirement.trim(), l)) {
        return false;
      }
    }
    return true;
  }

  /** Splits at the commas that are not inside a set's parentheses. */
  static List<String> requirements(String selector) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < selector.length(); i++) {
      char c = selector.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(selector.substring(start, i));
        start = i + 1;
      }
    }
    out.add(selector.substring(start));
    return out.stream().filter(s -> !s.isBlank()).toList();
  }

  private static boolean holds(String r, Map<String, String> labels) {
    int notEquals = r.indexOf("!=");
    if (notEquals > 0) {
      String key = r.substring(0, notEquals).trim();
      return !r.substring(notEquals + 2).trim().equals(labels.get(key));
    }
    int equals = r.indexOf('=');
    if (equals > 0) {
      String key = r.substring(0, equals).trim();
      String value = r.substring(r.startsWith("==", equals) ? equals + 2 : equals + 1).trim();
      return value.equals(labels.get(key));
    }
    String[] words = r.split("\\s+", 2);
    if (words.length == 2) {
      String rest = words[1].trim();
      boolean in = rest.startsWith("in");
      boolean notin = rest.startsWith("notin");
      if (in || notin) {
        String set = rest.substring(rest.indexOf('(') + 1, rest.lastIndexOf(')'));
        Set<String> values = Arrays.stream(set.split(",")).map(String::trim).collect(Collectors.toSet());
        boolean member = labels.containsKey(words[0]) && values.contains(labels.get(words[0]));
        return in ? member : !member;
      }
      throw new IllegalArgumentException("not a label selector requirement: " + r);
    }
    return r.startsWith("!") ? !labels.containsKey(r.substring(1).trim()) : labels.containsKey(r);
  }
}
