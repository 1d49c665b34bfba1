package io.tailops.operator.pipeline;

import java.util.List;

/**
 * What a parent asks for, in the terms other parents compete for: tailnet hostnames (one per replica) and a ProxyClass.
 *
 * @param hostnames the hostnames, lower or mixed case (empty: none)
 * @param proxyClassName the ProxyClass it names (label, annotation or the operator's default), or null
 * @param howToRename what to tell the user to pick another hostname ("set a different tailscale.com/hostname
 *     annotation")
 */
public record Claim(List<String> hostnames, String proxyClassName, String howToRename) {
  public static final Claim NONE = new Claim(List.of(), null, "");

  public Claim {
    hostnames = List.copyOf(hostnames);
  }

  public boolean wantsProxy() {
    return this != NONE && (!hostnames.isEmpty() || proxyClassName != null);
  }
}
