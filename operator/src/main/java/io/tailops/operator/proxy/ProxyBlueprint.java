package io.tailops.operator.proxy;

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
}
