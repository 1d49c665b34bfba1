package io.tailops.operator.proxygroup;

import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.proxy.ParentRef;
import java.util.List;

/** What the operator should do with one ProxyGroup, decided by {@link ProxyGroupPlanner} without any API call. */
public sealed interface ProxyGroupPlan {

  /**
   * The group cannot be provisioned as it is.
   *
   * @param reason the {@code ProxyGroupReady} reason ({@code ProxyGroupInvalid}, or {@code NotSupported})
   * @param message what is wrong and what to do
   */
  record Invalid(String reason, String message) implements ProxyGroupPlan {
  }

  /**
   * The group gets its proxies.
   *
   * @param replicas how many (default 2)
   * @param hostnamePrefix replica {@code i} asks for {@code <hostnamePrefix>-<i>} (the group's name when unset)
   * @param tags the devices' tags ({@code spec.tags}, else the operator's proxy tags)
   * @param proxyClassName {@code spec.proxyClass}, else the operator's default ProxyClass, or null
   */
  record Group(ParentRef parent, ProxyGroupType type, int replicas, String hostnamePrefix, List<String> tags,
      String proxyClassName) implements ProxyGroupPlan {
    public Group {
      tags = List.copyOf(tags);
    }

    /** The hostname of replica {@code ordinal}. */
    public String hostname(int ordinal) {
      return ProxyGroupNames.hostname(hostnamePrefix, ordinal);
    }

    /** Every replica's hostname, in ordinal order. */
    public List<String> hostnames() {
      return java.util.stream.IntStream.range(0, replicas).mapToObj(this::hostname).toList();
    }
  }
}
