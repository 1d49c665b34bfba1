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
 * @param authKeys how auth keys are minted ({@code OPERATOR_AUTH_KEY_EXPIRY}, descriptions naming the operator)
 */
public record ProxyDefaults(String namespace, String proxyImage, String priorityClassName, String firewallMode,
    String loginServer, List<String> defaultTags, AuthKeys authKeys) {

  /** With the default key policy ({@link AuthKeys#DEFAULT}). */
  public ProxyDefaults(String namespace, String proxyImage, String priorityClassName, String firewallMode,
      String loginServer, List<String> defaultTags) {
    this(namespace, proxyImage, priorityClassName, firewallMode, loginServer, defaultTags, AuthKeys.DEFAULT);
  }

  public static ProxyDefaults from(OperatorConfig cfg) {
    return new ProxyDefaults(cfg.namespace(), cfg.proxyImage(), cfg.proxyPriorityClassName(), cfg.proxyFirewallMode(),
        cfg.loginServer(), cfg.proxyTags(), new AuthKeys(cfg.security().authKeyExpiry(), cfg.operatorHostname(),
        cfg.security().keyMark()));
  }
}
