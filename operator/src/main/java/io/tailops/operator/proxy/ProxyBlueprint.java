package io.tailops.operator.proxy;

import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.Optional;

/**
 * How a proxy's desired objects are built from its spec. {@link StandardProxy} is the shape of the official
 * {@code sts.go} (Service, Ingress, Connector and egress proxies); a kind with another shape (ProxyGroup: separate config
 * and state Secrets per replica, a ServiceAccount, Role, RoleBinding and ConfigMap) supplies its own.
 */
@FunctionalInterface
public interface ProxyBlueprint {
  DesiredProxy build(ProxySpec spec, String name, ProxyDefaults defaults);

  /**
   * The proxy's name when the shape fixes it (a ProxyGroup's objects are named after the group); empty for a name of
   * the {@code ts-<parent>-<suffix>} form, found from the live objects or derived ({@link ProxyNames}).
   */
  default Optional<String> fixedName(ParentRef parent) {
    return Optional.empty();
  }

  /**
   * What to tell the user about building this proxy with its ProxyClass applied (a setting the shape cannot honour,
   * and what follows from it), recorded as notes while they hold.
   */
  default List<Problem> notes(ProxySpec spec) {
    return List.of();
  }

  /**
   * Why this proxy cannot be built as asked with its ProxyClass applied (an image of the wrong kind, a setting the shape
   * has no place for, a prerequisite missing), or empty: the parent is then refused as invalid with this problem (its
   * reason the condition's), nothing is changed, and it is looked at again a little later.
   */
  default Optional<Problem> refusal(ProxySpec spec) {
    return Optional.empty();
  }
}
