package io.tailops.operator.k8s;

import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Inputs that are almost what the operator reads, but not quite: a value that means yes to a human but is not
 * {@code "true"}, a class equal to the served one except for case, an annotation that only another kind reads, a
 * misspelt {@code tailscale.com/} key. The operator acts on none of them (it does not guess); each is told with one
 * Warning naming the accepted form, and listed by doctor. Pure: the kinds' planners call it.
 */
public final class NearMisses {
  /** Reason of the Warning for a value the operator does not accept. */
  public static final String VALUE_IGNORED = "AnnotationValueIgnored";
  /** Reason of the Warning for an annotation the object's kind does not read (or a misspelt key). */
  public static final String ANNOTATION_IGNORED = "AnnotationIgnored";
  /** Reason of the Warning for a class that differs from the served one only in case (or a deprecated form). */
  public static final String CLASS_IGNORED = "ClassIgnored";

  /** Keys only Services read. */
  public static final Set<String> SERVICE_ONLY = Set.of(TailscaleKeys.EXPOSE, TailscaleKeys.HOSTNAME,
      TailscaleKeys.TAILNET_IP, TailscaleKeys.TAILNET_IP_DEPRECATED, TailscaleKeys.TAILNET_FQDN);
  /** Keys only Ingresses read. */
  public static final Set<String> INGRESS_ONLY = Set.of(TailscaleKeys.HTTP_REDIRECT,
      TailscaleKeys.FORWARD_CLUSTER_TRAFFIC, TailscaleKeys.INGRESS_HTTP);
  /** Every {@code tailscale.com/} key a user's object may carry (read by this or the official operator, or written). */
  static final Set<String> KNOWN = Set.of(TailscaleKeys.EXPOSE, TailscaleKeys.HOSTNAME, TailscaleKeys.TAGS,
      TailscaleKeys.PROXY_CLASS, TailscaleKeys.PROXY_GROUP, TailscaleKeys.FUNNEL, TailscaleKeys.HTTP_REDIRECT,
      TailscaleKeys.TAILNET_IP, TailscaleKeys.TAILNET_IP_DEPRECATED, TailscaleKeys.TAILNET_FQDN,
      TailscaleKeys.FORWARD_CLUSTER_TRAFFIC, TailscaleKeys.EPHEMERAL, TailscaleKeys.INGRESS_HTTP,
      TailscaleKeys.FORCE_REAUTH, "tailscale.com/magic-dnsname", "tailscale.com/owner-references",
      "tailscale.com/svc-type", "tailscale.com/http-endpoint", "tailscale.com/domain", "tailscale.com/proxygroup");

  private NearMisses() {
  }

  /**
   * A boolean annotation whose value is neither {@code "true"} nor {@code "false"}: it counts as false, which is what
   * the Warning says, with the accepted form.
   *
   * @param effect what the value being taken as false means ("the Service is not exposed")
   */
  public static Optional<Problem> booleanValue(Map<String, String> annotations, String key, String effect) {
    String v = annotations.get(key);
    if (v == null || v.equals("true") || v.equals("false")) {
      return Optional.empty();
    }
    return Optional.of(Problem.warning(VALUE_IGNORED, key + ": " + quote(v) + " is not \"true\", so " + effect
        + "; the accepted values are \"true\" and \"false\" (lower case, quoted in YAML: " + key + ": \"true\")"));
  }

  /**
   * Keys of {@code annotations} that only another kind reads ({@code others}), and misspelt {@code tailscale.com/}
   * keys, each with what to do instead.
   *
   * @param kind the object's kind ({@code Service})
   * @param others the keys only the other kind reads, with that kind's name
   * @param hint per key, what to use on this kind instead (may be absent)
   */
  public static List<Problem> misplaced(String kind, Map<String, String> annotations, Set<String> others,
      String otherKind, Map<String, String> hint) {
    List<Problem> out = new ArrayList<>();
    for (String key : annotations.keySet()) {
      if (others.contains(key)) {
        out.add(Problem.warning(ANNOTATION_IGNORED, key + " is read on " + plural(otherKind) + " only; this " + kind
            + " ignores it" + (hint.containsKey(key) ? ": " + hint.get(key) : "")));
      } else if (key.startsWith("tailscale.com/") && !KNOWN.contains(key)) {
        closest(key).ifPresent(known -> out.add(Problem.warning(ANNOTATION_IGNORED, "unknown annotation " + key
            + ", ignored; did you mean " + known + "?")));
      }
    }
    return out;
  }

  /** A class (IngressClass, LoadBalancer class) that equals the served one except for case. */
  public static Optional<Problem> classCase(String field, String value, String served, String effect) {
    if (value == null || value.equals(served) || !value.trim().equalsIgnoreCase(served)) {
      return Optional.empty();
    }
    return Optional.of(Problem.warning(CLASS_IGNORED, field + " " + quote(value) + " is not " + quote(served)
        + " (class names are case-sensitive), so " + effect + "; use " + field + ": " + served));
  }

  /** The known key nearest to {@code key} when it is a likely misspelling (at most 2 edits away). */
  static Optional<String> closest(String key) {
    String best = null;
    int bestDistance = 3;
    for (String k : KNOWN) {
      int d = distance(key, k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static String plural(String kind) {
    return kind.endsWith("s") ? kind + "es" : kind + "s";
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
