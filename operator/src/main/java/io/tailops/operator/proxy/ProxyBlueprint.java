package io.tailops.operator.proxy;

/**
 * How a proxy's desired objects are built from its spec. {@link StandardProxy} is the shape of the official
 * {@code sts.go} (Service, Ingress, Connector and egress proxies); a kind with another shape (ProxyGroup: separate config
 * and state Secrets per replica) supplies its own.
 */
@FunctionalInterface
public interface ProxyBlueprint {
  DesiredProxy build(ProxySpec spec, String name, ProxyDefaults defaults);
}
