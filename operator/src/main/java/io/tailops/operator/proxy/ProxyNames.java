package io.tailops.operator.proxy;

/**
 * Names of the objects created for a proxy.
 *
 * <p>The official operator creates the headless Service with {@code generateName: ts-<parent>-} and finds it again
 * by labels. This operator keeps the same shape ({@code ts-<parent, cut to 43 characters>-<5 characters>}, at most 52
 * characters so that the StatefulSet's pod labels fit) but derives the 5-character suffix from the parent's identity,
 * from the same alphabet the API server uses. A retried create after a crash or a stale cache then fails with 409
 * instead of creating a second proxy. Existing objects are still found by labels, so proxies created by the official
 * operator are adopted as they are.
 */
public final class ProxyNames {
  /** The characters Kubernetes uses for generated name suffixes. */
  static final String ALPHABET = DerivedNames.ALPHABET;
  static final int MAX_PARENT_CHARS = 43;

  private ProxyNames() {
  }

  /**
   * Name of the StatefulSet and the headless Service of the proxy for {@code parent}. The headless Service makes it a
   * DNS-1035 label: a parent name with characters a Service name cannot have (the dots of an Ingress called
   * {@code grafana.example.com}) has them replaced by {@code -} ({@code ts-grafana-example-com-x7k2p}); any other
   * name is used as it is, as upstream does.
   */
  public static String statefulSetName(ParentRef parent) {
    String name = DerivedNames.dnsLabel(parent.name(), Integer.MAX_VALUE);
    String base = name.length() > MAX_PARENT_CHARS ? name.substring(0, MAX_PARENT_CHARS) : name;
    return "ts-" + base + "-" + suffix(parent.type() + "/" + parent.namespace() + "/" + parent.name() + "/"
        + parent.uid());
  }

  /** Name of the config/state Secret (and of the pod) of replica {@code ordinal}. */
  public static String secretName(String statefulSetName, int ordinal) {
    return statefulSetName + "-" + ordinal;
  }

  /** The StatefulSet name a replica Secret belongs to ({@code ts-web-x7k2p-0} → {@code ts-web-x7k2p}). */
  public static String statefulSetOfSecret(String secretName) {
    int dash = secretName.lastIndexOf('-');
    return dash < 0 ? secretName : secretName.substring(0, dash);
  }

  static String suffix(String identity) {
    return DerivedNames.hash(identity);
  }
}
