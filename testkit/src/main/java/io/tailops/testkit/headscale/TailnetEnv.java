package io.tailops.testkit.headscale;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The environment every tailscaled of a local tailnet gets (directly, under containerboot, or tsnet), so that it
 * talks only to the loopback headscale and never to the internet or a private-range address.
 */
public final class TailnetEnv {

  private TailnetEnv() {
  }

  /**
   * The knobs, each needed:
   * <ul>
   *   <li>{@code TS_DEBUG_USE_DERP_HTTP=1}: DERP over plain HTTP ({@code GET /derp}, {@code Upgrade: DERP}) to
   *       headscale's embedded DERP on its HTTP port; without it the DERP TLS handshake fails.</li>
   *   <li>{@code TS_DISABLE_PORTMAPPER=1}: no UPnP/NAT-PMP/PCP probes of the default gateway.</li>
   *   <li>{@code TS_NO_LOGS_NO_SUPPORT=true}: no log upload to log.tailscale.com.</li>
   *   <li>{@code TS_DEBUG_OMIT_LOCAL_ADDRS=1}: do not advertise interface addresses (this machine's eth0 has
   *       192.0.2.2 and fd00::2) as WireGuard endpoints, so peers never send disco pings to them; the STUN-learned
   *       {@code 127.0.0.1:<port>} endpoint remains, and loopback paths work directly.</li>
   * </ul>
   */
  public static Map<String, String> loopbackOnly() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("TS_DEBUG_USE_DERP_HTTP", "1");
    env.put("TS_DISABLE_PORTMAPPER", "1");
    env.put("TS_NO_LOGS_NO_SUPPORT", "true");
    env.put("TS_DEBUG_OMIT_LOCAL_ADDRS", "1");
    return env;
  }

  /**
   * {@link #loopbackOnly()} plus {@code HOME} and {@code TS_LOGS_DIR} set to {@code stateDir} (which must exist): each
   * tailscaled needs its own log state, or root's instances share {@code /var/lib/tailscale}.
   */
  public static Map<String, String> forNode(Path stateDir) {
    Map<String, String> env = loopbackOnly();
    env.put("HOME", stateDir.toString());
    env.put("TS_LOGS_DIR", stateDir.toString());
    return env;
  }
}
