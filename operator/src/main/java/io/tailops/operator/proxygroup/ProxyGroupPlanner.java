package io.tailops.operator.proxygroup;

import io.tailops.api.v1alpha1.APIServerProxyMode;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupSpec;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.Validation;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides what a ProxyGroup gets (official behaviour: {@code proxygroup.go}, {@code proxygroup_specs.go}): type, replicas
 * (2 when unset), hostnames {@code <hostnamePrefix or name>-<i>}, tags and ProxyClass, and what cannot be provisioned,
 * with what to do about it. Pure: every rule is unit-tested.
 */
public final class ProxyGroupPlanner {
  /** Reason of {@code ProxyGroupReady} for a group that cannot be provisioned as it is (official). */
  public static final String REASON_INVALID = "ProxyGroupInvalid";
  /** The ServiceAccount the chart makes for API server proxies in auth mode; a group must not take its name. */
  public static final String AUTH_PROXY_SERVICE_ACCOUNT = "kube-apiserver-auth-proxy";
  static final int DEFAULT_REPLICAS = 2;
  /**
   * Longest group name whose StatefulSet can have pods: Kubernetes labels each pod with
   * {@code controller-revision-hash: <name>-<10 characters>}, a label value of at most 63 characters.
   */
  static final int MAX_NAME = 52;

  private final List<String> defaultTags;
  private final String defaultProxyClass;

  /**
   * @param defaultTags {@code PROXY_TAGS}
   * @param defaultProxyClass {@code PROXY_DEFAULT_CLASS}, or "" for none
   */
  public ProxyGroupPlanner(List<String> defaultTags, String defaultProxyClass) {
    this.defaultTags = List.copyOf(defaultTags);
    this.defaultProxyClass = defaultProxyClass;
  }

  public ProxyGroupPlan plan(ProxyGroup pg) {
    String name = pg.getMetadata().getName();
    ProxyGroupSpec spec = pg.getSpec();
    if (spec == null || spec.getType() == null) {
      return new ProxyGroupPlan.Invalid(REASON_INVALID, "invalid ProxyGroup spec: spec.type must be egress, "
          + "ingress or kube-apiserver");
    }
    List<String> problems = new ArrayList<>();
    boolean authApiServerProxy = spec.getType() == ProxyGroupType.KUBE_APISERVER && (spec.getKubeAPIServer() == null
        || spec.getKubeAPIServer().getMode() != APIServerProxyMode.NOAUTH);
    if (!authApiServerProxy && AUTH_PROXY_SERVICE_ACCOUNT.equals(name)) {
      // Its own ServiceAccount would be the chart's static one (API server proxies in auth mode run as that).
      problems.add("the name of the ProxyGroup " + Validation.quote(name) + " conflicts with the static "
          + "ServiceAccount used for the API server proxy in auth mode");
    }
    if (spec.getType() == ProxyGroupType.KUBE_APISERVER && spec.getKubeAPIServer() != null
        && spec.getKubeAPIServer().getHostname() != null && !spec.getKubeAPIServer().getHostname().isEmpty()) {
      String h = spec.getKubeAPIServer().getHostname();
      Validation.dnsLabelError(h).ifPresent(e -> problems.add("invalid spec.kubeAPIServer.hostname "
          + Validation.quote(h) + ": " + e));
    }
    if (name.length() > MAX_NAME) {
      problems.add("the name " + Validation.quote(name) + " is " + name.length() + " characters long; at most "
          + MAX_NAME + " fit, because Kubernetes labels the group's pods with the name and a 10-character hash "
          + "(a label value of at most 63 characters): recreate the ProxyGroup with a shorter name");
    }
    int replicas = spec.getReplicas() == null ? DEFAULT_REPLICAS : spec.getReplicas();
    if (replicas < 0) {
      problems.add("spec.replicas must not be negative");
    }
    String prefix = spec.getHostnamePrefix() == null || spec.getHostnamePrefix().isEmpty() ? name
        : spec.getHostnamePrefix();
    if (replicas > 0) {
      String last = ProxyGroupNames.hostname(prefix, replicas - 1);
      Validation.dnsLabelError(last).ifPresent(e -> problems.add("invalid hostname " + Validation.quote(last)
          + " for replica " + (replicas - 1) + ": " + e + "; set a shorter spec.hostnamePrefix"));
    }
    List<String> tags = spec.getTags() == null || spec.getTags().isEmpty() ? defaultTags : spec.getTags();
    for (String t : tags) {
      Validation.tagError(t).ifPresent(e -> problems.add("invalid tag " + Validation.quote(t) + ": " + e));
    }
    if (!problems.isEmpty()) {
      return new ProxyGroupPlan.Invalid(REASON_INVALID, "invalid ProxyGroup spec: " + String.join("; ", problems));
    }
    String pc = spec.getProxyClass() != null && !spec.getProxyClass().isEmpty() ? spec.getProxyClass()
        : defaultProxyClass == null || defaultProxyClass.isEmpty() ? null : defaultProxyClass;
    return new ProxyGroupPlan.Group(ParentRef.of(ProxyGroupNames.PARENT_TYPE, pg), spec.getType(), replicas, prefix,
        tags, pc);
  }
}
