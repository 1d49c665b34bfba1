package io.tailops.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Which ProxyClass an object names (§2.4): the label first, then the annotation, then the operator default. */
public final class ProxyClassRef {
  private ProxyClassRef() {
  }

  /**
   * The ProxyClass name for {@code obj}, or null for none. A label that is present with an empty value means "no
   * ProxyClass" and wins over the default.
   */
  public static String nameFor(HasMetadata obj, String defaultClass) {
    var labels = obj.getMetadata().getLabels();
    if (labels != null && labels.containsKey(TailscaleKeys.PROXY_CLASS)) {
      String v = labels.get(TailscaleKeys.PROXY_CLASS);
      return v == null || v.isEmpty() ? null : v;
    }
    var ann = obj.getMetadata().getAnnotations();
    if (ann != null && ann.get(TailscaleKeys.PROXY_CLASS) != null && !ann.get(TailscaleKeys.PROXY_CLASS).isEmpty()) {
      return ann.get(TailscaleKeys.PROXY_CLASS);
    }
    return defaultClass == null || defaultClass.isEmpty() ? null : defaultClass;
  }
}
