package io.tailops.chart;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Flattens RBAC rules into comparable permission strings: {@code group/resource:verb} (+ {@code @name}). */
final class Rbac {
  private Rbac() {
  }

  static Set<String> permissions(List<PolicyRule> rules) {
    Set<String> out = new TreeSet<>();
    for (PolicyRule r : rules) {
      List<String> names = r.getResourceNames() == null || r.getResourceNames().isEmpty()
          ? List.of("") : r.getResourceNames();
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) {
            for (String n : names) {
              out.add(grant(g, res, v) + (n.isEmpty() ? "" : "@" + n));
            }
          }
        }
      }
    }
    return out;
  }

  static String grant(String group, String resource, String verb) {
    return (group.isEmpty() ? "core" : group) + "/" + resource + ":" + verb;
  }

  /** Every combination of one group, some resources and some verbs. */
  static List<String> grants(String group, List<String> resources, String... verbs) {
    List<String> out = new ArrayList<>();
    for (String r : resources) {
      for (String v : verbs) {
        out.add(grant(group, r, v));
      }
    }
    return out;
  }

  static List<String> grants(String group, String resource, String... verbs) {
    return grants(group, List.of(resource), verbs);
  }
}
