package io.tailops.operator.proxy;

import io.tailops.operator.config.OperatorConfig;
import java.util.List;

/**
 * Operator-wide settings that shape every proxy.
 *
 * @param namespace operator namespace, where all proxy objects live
 * @param proxyImage image of the proxy and its init container ({@code PROXY_IMAGE})
 * @param priorityClassName {@code PROXY_PRIORITY_CLASS_NAME}
 * @param firewallMode {@code PROXY_FIREWALL_MODE} (validated by the Service reconciler)
 * @param loginServer control server URL written as {@code ServerURL}, or empty
 * @param defaultTags {@code PROXY_TAGS}
 */
public record ProxyDefaults(String namespace, String proxyImage, String priorityClassName, String firewallMode,
    String loginServer, List<String> defaultTags) {

  public static ProxyDefaults from(OperatorConfig cfg) {
    return new ProxyDefaults(cfg.namespace(), cfg.proxyImage(), cfg.proxyPriorityClassName(), cfg.proxyFirewallMode(),
        cfg.loginServer(), cfg.proxyTags());
  }
}
