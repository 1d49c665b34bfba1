package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.KeyToPathBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.operator.k8s.TailscaleKeys;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the desired proxy StatefulSet (official behaviour §3.4): the kernel-mode skeleton with the {@code sysctler}
 * init container for Service proxies, the userspace skeleton for Ingress proxies, the environment in the official
 * order, one config (and serve-config) volume per replica, then the ProxyClass overlay (§4.4).
 *
 * <p>The result carries {@link TailscaleKeys#SPEC_HASH}, a hash of everything the operator sets; the reconciler only
 * writes the StatefulSet when that hash changes, so a resync of an unchanged proxy makes no API call.
 */
public final class ProxyStatefulSet {
  public static final String CONTAINER_NAME = "tailscale";
  public static final String INIT_CONTAINER_NAME = "sysctler";
  public static final String SERVE_CONFIG_KEY = "serve-config";
  static final String SYSCTL_SCRIPT = "sysctl -w net.ipv4.ip_forward=1 && if sysctl net.ipv6.conf.all.forwarding; "
      + "then sysctl -w net.ipv6.conf.all.forwarding=1; fi";

  private ProxyStatefulSet() {
  }

  public static StatefulSet build(ProxySpec spec, String name, ProxyDefaults defaults) {
    Map<String, String> labels = ChildLabels.of(spec.parent());
    Map<String, String> podLabels = new LinkedHashMap<>(labels);
    podLabels.put("app", spec.parent().uid());
    Map<String, String> podAnnotations = new LinkedHashMap<>();
    if (spec.target() instanceof ProxyTarget.ClusterIp c) {
      podAnnotations.put(TailscaleKeys.LAST_SET_CLUSTER_IP, c.ip());
    } else if (spec.target() instanceof ProxyTarget.DnsName d) {
      podAnnotations.put(TailscaleKeys.LAST_SET_CLUSTER_DNS_NAME, d.name());
    } else if (spec.target() instanceof ProxyTarget.TailnetIp t) {
      podAnnotations.put(TailscaleKeys.LAST_SET_TAILNET_TARGET_IP, t.ip());
    } else if (spec.target() instanceof ProxyTarget.TailnetFqdn t) {
      podAnnotations.put(TailscaleKeys.LAST_SET_TAILNET_TARGET_FQDN, t.fqdn());
    }
    boolean userspace = spec.userspace();
    String secretName = ProxyNames.secretName(name, 0);

    ContainerBuilder main = new ContainerBuilder()
        .withName(CONTAINER_NAME)
        .withImage(defaults.proxyImage())
        .withImagePullPolicy("Always")
        .withNewResources()
        .addToRequests("cpu", new Quantity("1m"))
        .addToRequests("memory", new Quantity("1Mi"))
        .endResources()
        .withEnv(env(spec, defaults, userspace))
        .withVolumeMounts(mounts(spec, secretName));
    if (!userspace) {
      main.withNewSecurityContext().withPrivileged(true).endSecurityContext();
    }

    StatefulSetBuilder b = new StatefulSetBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(defaults.namespace())
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withReplicas(1)
        .withServiceName(name)
        .withNewSelector().addToMatchLabels("app", spec.parent().uid()).endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels)
        .withAnnotations(podAnnotations.isEmpty() ? null : podAnnotations)
        .withDeletionGracePeriodSeconds(10L)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName("proxies")
        .withPriorityClassName(defaults.priorityClassName().isEmpty() ? null : defaults.priorityClassName())
        .withContainers(main.build())
        .withVolumes(volumes(spec, secretName))
        .endSpec()
        .endTemplate()
        .endSpec();
    if (!userspace) {
      b.editSpec().editTemplate().editSpec().withInitContainers(new ContainerBuilder()
          .withName(INIT_CONTAINER_NAME)
          .withImage(defaults.proxyImage())
          .withNewSecurityContext().withPrivileged(true).endSecurityContext()
          .withCommand("/bin/sh", "-c")
          .withArgs(SYSCTL_SCRIPT)
          .build()).endSpec().endTemplate().endSpec();
    }
    StatefulSet sts = b.build();
    if (spec.proxyClass() != null) {
      ProxyClassOverlay.apply(sts, spec.proxyClass(), spec);
    }
    sts.getMetadata().setAnnotations(withHash(sts));
    return sts;
  }

  private static List<EnvVar> env(ProxySpec spec, ProxyDefaults defaults, boolean userspace) {
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVarBuilder().withName("TS_USERSPACE").withValue(Boolean.toString(userspace)).build());
    env.add(fieldRef("POD_IP", "status.podIP"));
    env.add(fieldRef("POD_NAME", "metadata.name"));
    env.add(fieldRef("POD_UID", "metadata.uid"));
    env.add(value("TS_KUBE_SECRET", "$(POD_NAME)"));
    env.add(value("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "/etc/tsconfig/$(POD_NAME)"));
    env.add(value("TS_DEBUG_ACME_FORCE_RENEWAL", "true"));
    if (spec.forwardClusterTraffic() && spec.isIngressProxy()) {
      env.add(value("EXPERIMENTAL_ALLOW_PROXYING_CLUSTER_TRAFFIC_VIA_INGRESS", "true"));
    }
    if (!defaults.firewallMode().isEmpty()) {
      env.add(value("TS_DEBUG_FIREWALL_MODE", defaults.firewallMode()));
    }
    if (spec.target() instanceof ProxyTarget.ClusterIp c) {
      env.add(value("TS_DEST_IP", c.ip()));
    } else if (spec.target() instanceof ProxyTarget.DnsName d) {
      env.add(value("TS_EXPERIMENTAL_DEST_DNS_NAME", d.name()));
    } else if (spec.target() instanceof ProxyTarget.TailnetIp t) {
      env.add(value("TS_TAILNET_TARGET_IP", t.ip()));
    } else if (spec.target() instanceof ProxyTarget.TailnetFqdn t) {
      env.add(value("TS_TAILNET_TARGET_FQDN", t.fqdn()));
    } else {
      env.add(value("TS_SERVE_CONFIG", "/etc/tailscaled/$(POD_NAME)/serve-config"));
    }
    if (spec.serviceServeConfig() != null && !(spec.target() instanceof ProxyTarget.Serve)) {
      env.add(value("TS_SERVE_CONFIG", "/etc/tailscaled/$(POD_NAME)/serve-config"));
    }
    env.add(value("TS_INTERNAL_APP", spec.internalApp()));
    return env;
  }

  private static List<VolumeMount> mounts(ProxySpec spec, String secretName) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(new VolumeMountBuilder().withName("tailscaledconfig-0").withReadOnly(true)
        .withMountPath("/etc/tsconfig/" + secretName).build());
    if (spec.hasServeConfig()) {
      mounts.add(new VolumeMountBuilder().withName("serve-config-0").withReadOnly(true)
          .withMountPath("/etc/tailscaled/" + secretName).build());
    }
    return mounts;
  }

  private static List<Volume> volumes(ProxySpec spec, String secretName) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(new VolumeBuilder().withName("tailscaledconfig-0").withNewSecret().withSecretName(secretName)
        .endSecret().build());
    if (spec.hasServeConfig()) {
      volumes.add(new VolumeBuilder().withName("serve-config-0").withNewSecret().withSecretName(secretName)
          .withItems(new KeyToPathBuilder().withKey(SERVE_CONFIG_KEY).withPath(SERVE_CONFIG_KEY).build())
          .endSecret().build());
    }
    return volumes;
  }

  static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef("v1", path).endValueFrom().build();
  }

  /** The container named {@code tailscale}, or null. */
  public static Container mainContainer(StatefulSet sts) {
    return sts.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> CONTAINER_NAME.equals(c.getName())).findFirst().orElse(null);
  }

  /** The stored spec hash of a live StatefulSet, or null. */
  public static String hashOf(StatefulSet sts) {
    var a = sts.getMetadata().getAnnotations();
    return a == null ? null : a.get(TailscaleKeys.SPEC_HASH);
  }

  private static Map<String, String> withHash(StatefulSet sts) {
    Map<String, String> annotations = new LinkedHashMap<>();
    if (sts.getMetadata().getAnnotations() != null) {
      annotations.putAll(sts.getMetadata().getAnnotations());
    }
    annotations.remove(TailscaleKeys.SPEC_HASH);
    sts.getMetadata().setAnnotations(annotations);
    String json = Serialization.asJson(sts);
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(json.getBytes(StandardCharsets.UTF_8));
      annotations.put(TailscaleKeys.SPEC_HASH, HexFormat.of().formatHex(d, 0, 10));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return annotations;
  }
}
