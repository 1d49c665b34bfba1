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
 * <p>The result carries {@link TailscaleKeys#SPEC_HASH}, a hash of everything the operator sets. Provisioning records
 * there what it last enforced for the whole proxy ({@link StandardProxy}): a live object that differs from the desired
 * one while the hash is unchanged was changed by hand.
 */
public final class ProxyStatefulSet {
  public static final String CONTAINER_NAME = "tailscale";
  public static final String INIT_CONTAINER_NAME = "sysctler";
  public static final String SERVE_CONFIG_KEY = "serve-config";
  static final String SYSCTL_SCRIPT = "sysctl -w net.ipv4.ip_forward=1 && if sysctl net.ipv6.conf.all.forwarding; "
      + "then sysctl -w net.ipv6.conf.all.forwarding=1; fi";

  /**
   * The proxy container as every proxy StatefulSet of the official operator starts it (standalone proxies, ProxyGroup
   * replicas): name {@value #CONTAINER_NAME}, the image pulled always, the nominal requests; the caller adds env,
   * mounts and security context.
   */
  public static ContainerBuilder tailscaleContainer(String image) {
    return new ContainerBuilder()
        .withName(CONTAINER_NAME)
        .withImage(image)
        .withImagePullPolicy("Always")
        .withNewResources()
        .addToRequests("cpu", new Quantity("1m"))
        .addToRequests("memory", new Quantity("1Mi"))
        .endResources();
  }

  /** The privileged init container of kernel-mode proxies that turns on IP forwarding. */
  public static Container sysctlInitContainer(String image) {
    return new ContainerBuilder()
        .withName(INIT_CONTAINER_NAME)
        .withImage(image)
        .withNewSecurityContext().withPrivileged(true).endSecurityContext()
        .withCommand("/bin/sh", "-c")
        .withArgs(SYSCTL_SCRIPT)
        .build();
  }

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
    List<String> secretNames = new ArrayList<>();
    for (int i = 0; i < spec.replicas(); i++) {
      secretNames.add(ProxyNames.secretName(name, i));
    }

    ContainerBuilder main = tailscaleContainer(defaults.proxyImage())
        .withEnv(env(spec, defaults, userspace))
        .withVolumeMounts(mounts(spec, secretNames));
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
        .withReplicas(spec.replicas())
        .withServiceName(name)
        .withNewSelector().addToMatchLabels("app", spec.parent().uid()).endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels)
        .withAnnotations(podAnnotations.isEmpty() ? null : podAnnotations)
        .withDeletionGracePeriodSeconds(10L)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(name)
        .withPriorityClassName(defaults.priorityClassName().isEmpty() ? null : defaults.priorityClassName())
        .withContainers(main.build())
        .withVolumes(volumes(spec, secretNames))
        .endSpec()
        .endTemplate()
        .endSpec();
    if (!userspace) {
      b.editSpec().editTemplate().editSpec().withInitContainers(sysctlInitContainer(defaults.proxyImage()))
          .endSpec().endTemplate().endSpec();
    }
    StatefulSet sts = b.build();
    if (spec.proxyClass() != null) {
      ProxyClassOverlay.apply(sts, spec.proxyClass(), spec);
    }
    sts.getMetadata().setAnnotations(withHash(sts, ""));
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
    } else if (spec.target() instanceof ProxyTarget.Connector) {
      // a Connector's routes are in its tailscaled config; nothing to point at
    } else {
      env.add(value("TS_SERVE_CONFIG", "/etc/tailscaled/$(POD_NAME)/serve-config"));
    }
    if (spec.serviceServeConfig() != null && !(spec.target() instanceof ProxyTarget.Serve)) {
      env.add(value("TS_SERVE_CONFIG", "/etc/tailscaled/$(POD_NAME)/serve-config"));
    }
    env.add(value("TS_INTERNAL_APP", spec.internalApp()));
    return env;
  }

  /** One config mount per replica Secret, then (serve-config proxies) one serve-config mount per replica, as upstream. */
  private static List<VolumeMount> mounts(ProxySpec spec, List<String> secretNames) {
    List<VolumeMount> mounts = new ArrayList<>();
    for (int i = 0; i < secretNames.size(); i++) {
      mounts.add(new VolumeMountBuilder().withName("tailscaledconfig-" + i).withReadOnly(true)
          .withMountPath("/etc/tsconfig/" + secretNames.get(i)).build());
    }
    if (spec.hasServeConfig()) {
      for (int i = 0; i < secretNames.size(); i++) {
        mounts.add(new VolumeMountBuilder().withName("serve-config-" + i).withReadOnly(true)
            .withMountPath("/etc/tailscaled/" + secretNames.get(i)).build());
      }
    }
    return mounts;
  }

  private static List<Volume> volumes(ProxySpec spec, List<String> secretNames) {
    List<Volume> volumes = new ArrayList<>();
    for (int i = 0; i < secretNames.size(); i++) {
      volumes.add(new VolumeBuilder().withName("tailscaledconfig-" + i).withNewSecret()
          .withSecretName(secretNames.get(i)).endSecret().build());
    }
    if (spec.hasServeConfig()) {
      for (int i = 0; i < secretNames.size(); i++) {
        volumes.add(new VolumeBuilder().withName("serve-config-" + i).withNewSecret()
            .withSecretName(secretNames.get(i))
            .withItems(new KeyToPathBuilder().withKey(SERVE_CONFIG_KEY).withPath(SERVE_CONFIG_KEY).build())
            .endSecret().build());
      }
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

  /**
   * Sets {@link TailscaleKeys#SPEC_HASH} on {@code sts}: a hash of the StatefulSet as built plus {@code alsoCovers}
   * (the proxy's other desired objects), so that the annotation records everything the operator last enforced.
   */
  public static void setHash(StatefulSet sts, String alsoCovers) {
    sts.getMetadata().setAnnotations(withHash(sts, alsoCovers));
  }

  private static Map<String, String> withHash(StatefulSet sts, String alsoCovers) {
    Map<String, String> annotations = new LinkedHashMap<>();
    if (sts.getMetadata().getAnnotations() != null) {
      annotations.putAll(sts.getMetadata().getAnnotations());
    }
    annotations.remove(TailscaleKeys.SPEC_HASH);
    sts.getMetadata().setAnnotations(annotations);
    String json = Serialization.asJson(sts) + alsoCovers;
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(json.getBytes(StandardCharsets.UTF_8));
      annotations.put(TailscaleKeys.SPEC_HASH, HexFormat.of().formatHex(d, 0, 10));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return annotations;
  }
}
