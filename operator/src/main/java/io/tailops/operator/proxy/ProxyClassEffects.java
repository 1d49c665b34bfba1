package io.tailops.operator.proxy;

import io.tailops.api.v1alpha1.ContainerConfig;
import io.tailops.api.v1alpha1.EnvVarConfig;
import io.tailops.api.v1alpha1.PodConfig;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * ProxyClass settings that are accepted but do nothing (or worse), judged from what each container of a proxy actually
 * reads: the init container {@code sysctler} runs a fixed {@code sysctl} script (IP forwarding) and reads no
 * environment variable at all (and userspace Ingress proxies have no init container); the {@code tailscale} container
 * runs containerboot, which the operator configures through a tailscaled config file
 * ({@code TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR}): with that, containerboot refuses to start when
 * {@link #CONFLICTS_WITH_CONFIG_FILE} is set. A proxy's tags come from the {@code tailscale.com/tags} annotation of its
 * Service or Ingress, else the operator's {@code PROXY_TAGS} (chart {@code proxyConfig.defaultTags}): the operator mints
 * the proxy's auth key with them; {@code --advertise-tags} anywhere in a ProxyClass changes nothing.
 *
 * <p>Each finding is a Warning, told on the ProxyClass (its condition message and an event) and on every Service and
 * Ingress that uses it; doctor lists them. The class stays valid, as upstream.
 */
public final class ProxyClassEffects {
  /** Reason of the Warnings. */
  public static final String REASON = "ProxyClassSettingIgnored";
  /** What containerboot refuses next to a tailscaled config file (containerboot settings.go, v1.94.2). */
  public static final Set<String> CONFLICTS_WITH_CONFIG_FILE = Set.of("TS_HOSTNAME", "TS_EXTRA_ARGS", "TS_AUTHKEY",
      "TS_AUTH_KEY", "TS_ROUTES", "TS_ACCEPT_DNS", "TS_CLIENT_ID", "TS_CLIENT_SECRET", "TS_ID_TOKEN", "TS_AUDIENCE");
  static final String TAGS = "a proxy's tags come from the tailscale.com/tags annotation of its Service or Ingress, "
      + "else the operator's PROXY_TAGS (chart value proxyConfig.defaultTags): the operator mints the proxy's auth key "
      + "with them";

  private ProxyClassEffects() {
  }

  /** The class's settings that do nothing or break its proxies, one message each (empty when there are none). */
  public static List<String> findings(ProxyClass pc) {
    List<String> out = new ArrayList<>();
    if (pc == null || pc.getSpec() == null || pc.getSpec().getStatefulSet() == null
        || pc.getSpec().getStatefulSet().getPod() == null) {
      return out;
    }
    PodConfig pod = pc.getSpec().getStatefulSet().getPod();
    ContainerConfig init = pod.getTailscaleInitContainer();
    if (init != null && init.getEnv() != null && !init.getEnv().isEmpty()) {
      List<String> names = init.getEnv().stream().map(e -> e.getName() == null ? "" : e.getName()).toList();
      out.add("spec.statefulSet.pod.tailscaleInitContainer.env " + names + " has no effect: the init container "
          + "(sysctler) only runs sysctl to enable IP forwarding and reads no environment variables (userspace Ingress "
          + "proxies have no init container at all); containerboot's TS_* variables are read by the tailscale "
          + "container (spec.statefulSet.pod.tailscaleContainer.env)" + (advertisesTags(init) ? "; and " + TAGS : ""));
    }
    ContainerConfig main = pod.getTailscaleContainer();
    if (main != null && main.getEnv() != null) {
      for (EnvVarConfig e : main.getEnv()) {
        // Environment variable names are case-sensitive: containerboot reads exactly these.
        String n = e.getName() == null ? "" : e.getName();
        if (CONFLICTS_WITH_CONFIG_FILE.contains(n)) {
          out.add("spec.statefulSet.pod.tailscaleContainer.env " + e.getName() + " breaks the proxy: the operator "
              + "configures it through a tailscaled config file (TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR), and "
              + "containerboot refuses to start with " + e.getName() + " set next to one, so the proxy crash-loops; "
              + "remove it" + (n.equals("TS_EXTRA_ARGS") && advertises(e) ? " (" + TAGS + ")" : ""));
        }
      }
    }
    return out;
  }

  /** The findings as Warnings to record on a user of the class. */
  public static List<Problem> warningsForUsers(ProxyClass pc) {
    String name = pc == null ? "" : pc.getMetadata().getName();
    return findings(pc).stream().map(f -> Problem.warning(REASON, "ProxyClass " + name + ": " + f)).toList();
  }

  private static boolean advertisesTags(ContainerConfig c) {
    return c.getEnv().stream().anyMatch(ProxyClassEffects::advertises);
  }

  private static boolean advertises(EnvVarConfig e) {
    return e.getValue() != null && e.getValue().contains("--advertise-tags");
  }
}
