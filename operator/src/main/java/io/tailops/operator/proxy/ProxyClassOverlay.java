package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.tailops.api.v1alpha1.ContainerConfig;
import io.tailops.api.v1alpha1.EnvVarConfig;
import io.tailops.api.v1alpha1.PodConfig;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.ProxyClassSpec;
import io.tailops.api.v1alpha1.StatefulSetConfig;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a ProxyClass to a proxy StatefulSet, as the official operator does (§4.4), with two upstream quirks fixed
 * on purpose: an empty {@code priorityClassName} in the class no longer wipes {@code PROXY_PRIORITY_CLASS_NAME}, and
 * the cluster-dns-name "last set" annotation survives custom pod annotations.
 */
public final class ProxyClassOverlay {
  public static final String LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

  /** Label keys the operator owns; a ProxyClass cannot override them. */
  static final Set<String> MANAGED_LABELS = Set.of(TailscaleKeys.LABEL_MANAGED, TailscaleKeys.LABEL_PARENT_TYPE,
      TailscaleKeys.LABEL_PARENT_NAME, TailscaleKeys.LABEL_PARENT_NAMESPACE, "app");
  /** Annotation keys the operator owns. */
  static final Set<String> MANAGED_ANNOTATIONS = Set.of(TailscaleKeys.LAST_SET_CLUSTER_IP,
      TailscaleKeys.LAST_SET_CLUSTER_DNS_NAME, TailscaleKeys.LAST_SET_TAILNET_TARGET_IP,
      TailscaleKeys.LAST_SET_TAILNET_TARGET_FQDN, TailscaleKeys.SPEC_HASH);

  private ProxyClassOverlay() {
  }

  public static void apply(StatefulSet sts, ProxyClass pc, ProxySpec proxy) {
    ProxyClassSpec spec = pc.getSpec();
    if (spec == null) {
      return;
    }
    PodTemplateSpec template = sts.getSpec().getTemplate();
    PodSpec pod = template.getSpec();
    Container main = find(pod.getContainers(), ProxyStatefulSet.CONTAINER_NAME);

    // 1. Metrics and debug endpoints (not for proxies that forward cluster traffic through the pod IP: egress proxies,
    //    and Ingress proxies that forward cluster traffic; upstream only logs that it leaves them out).
    boolean metrics = spec.getMetrics() != null && Boolean.TRUE.equals(spec.getMetrics().getEnable());
    ContainerConfig tsc = spec.getStatefulSet() != null && spec.getStatefulSet().getPod() != null
        ? spec.getStatefulSet().getPod().getTailscaleContainer() : null;
    boolean debug = tsc != null && tsc.getDebug() != null ? Boolean.TRUE.equals(tsc.getDebug().getEnable()) : metrics;
    boolean endpointsAllowed = !(proxy.forwardClusterTraffic() && proxy.isIngressProxy()) && !proxy.target().egress();
    if (main != null && endpointsAllowed) {
      if (debug) {
        main.getEnv().add(ProxyStatefulSet.value("TS_DEBUG_ADDR_PORT", "$(POD_IP):9001"));
        main.getEnv().add(ProxyStatefulSet.value("TS_TAILSCALED_EXTRA_ARGS", "--debug=$(TS_DEBUG_ADDR_PORT)"));
        main.getPorts().add(new ContainerPortBuilder().withName("debug").withContainerPort(9001)
            .withProtocol("TCP").build());
      }
      if (metrics) {
        main.getEnv().add(ProxyStatefulSet.value("TS_LOCAL_ADDR_PORT", "$(POD_IP):9002"));
        main.getEnv().add(ProxyStatefulSet.value("TS_ENABLE_METRICS", "true"));
        main.getPorts().add(new ContainerPortBuilder().withName("metrics").withContainerPort(9002)
            .withProtocol("TCP").build());
      }
    }
    // 2. Let's Encrypt staging for Ingress proxies.
    if (Boolean.TRUE.equals(spec.getUseLetsEncryptStagingEnvironment()) && proxy.isIngressProxy() && main != null) {
      main.getEnv().add(ProxyStatefulSet.value("TS_DEBUG_ACME_DIRECTORY_URL", LETS_ENCRYPT_STAGING));
    }
    StatefulSetConfig ssc = spec.getStatefulSet();
    if (ssc == null) {
      return;
    }
    // 3. StatefulSet labels and annotations: the class's, with the operator's own keys winning.
    sts.getMetadata().setLabels(merge(ssc.getLabels(), sts.getMetadata().getLabels(), MANAGED_LABELS));
    sts.getMetadata().setAnnotations(merge(ssc.getAnnotations(), sts.getMetadata().getAnnotations(),
        MANAGED_ANNOTATIONS));
    PodConfig pc2 = ssc.getPod();
    if (pc2 == null) {
      return;
    }
    template.getMetadata().setLabels(merge(pc2.getLabels(), template.getMetadata().getLabels(), MANAGED_LABELS));
    Map<String, String> podAnnotations = merge(pc2.getAnnotations(), template.getMetadata().getAnnotations(),
        MANAGED_ANNOTATIONS);
    template.getMetadata().setAnnotations(podAnnotations == null || podAnnotations.isEmpty() ? null : podAnnotations);

    // 4. Pod fields (replaced, as upstream; priorityClassName only when the class sets one).
    pod.setSecurityContext(pc2.getSecurityContext());
    pod.setImagePullSecrets(pc2.getImagePullSecrets() == null ? new ArrayList<>()
        : new ArrayList<>(pc2.getImagePullSecrets()));
    pod.setNodeName(pc2.getNodeName());
    pod.setNodeSelector(pc2.getNodeSelector() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(pc2.getNodeSelector()));
    pod.setAffinity(pc2.getAffinity());
    pod.setTolerations(pc2.getTolerations() == null ? new ArrayList<>() : new ArrayList<>(pc2.getTolerations()));
    pod.setTopologySpreadConstraints(pc2.getTopologySpreadConstraints() == null ? new ArrayList<>()
        : new ArrayList<>(pc2.getTopologySpreadConstraints()));
    if (pc2.getPriorityClassName() != null && !pc2.getPriorityClassName().isEmpty()) {
      pod.setPriorityClassName(pc2.getPriorityClassName());
    }
    if (pc2.getDnsPolicy() != null) {
      pod.setDnsPolicy(pc2.getDnsPolicy().name());
    }
    if (pc2.getDnsConfig() != null) {
      pod.setDnsConfig(pc2.getDnsConfig());
    }
    // 5. Container overlays.
    overlay(main, pc2.getTailscaleContainer());
    overlay(find(pod.getInitContainers(), ProxyStatefulSet.INIT_CONTAINER_NAME), pc2.getTailscaleInitContainer());
  }

  private static void overlay(Container c, ContainerConfig cfg) {
    if (c == null || cfg == null) {
      return;
    }
    if (cfg.getSecurityContext() != null) {
      c.setSecurityContext(cfg.getSecurityContext());
    }
    ResourceRequirements r = cfg.getResources();
    if (r != null) {
      if (c.getResources() == null) {
        c.setResources(new ResourceRequirements());
      }
      if (r.getRequests() != null && !r.getRequests().isEmpty()) {
        c.getResources().setRequests(new LinkedHashMap<>(r.getRequests()));
      }
      if (r.getLimits() != null && !r.getLimits().isEmpty()) {
        c.getResources().setLimits(new LinkedHashMap<>(r.getLimits()));
      }
      if (r.getClaims() != null && !r.getClaims().isEmpty()) {
        c.getResources().setClaims(new ArrayList<>(r.getClaims()));
      }
    }
    if (cfg.getEnv() != null) {
      List<EnvVar> env = c.getEnv();
      for (EnvVarConfig e : cfg.getEnv()) {
        env.add(ProxyStatefulSet.value(e.getName(), e.getValue()));
      }
    }
    if (cfg.getImage() != null && !cfg.getImage().isEmpty()) {
      c.setImage(cfg.getImage());
    }
    if (cfg.getImagePullPolicy() != null) {
      c.setImagePullPolicy(cfg.getImagePullPolicy().name());
    }
  }

  /** The class's map plus the generated object's managed keys (managed keys win); null when both are empty. */
  static Map<String, String> merge(Map<String, String> fromClass, Map<String, String> generated, Set<String> managed) {
    if (fromClass == null || fromClass.isEmpty()) {
      return generated;
    }
    Map<String, String> out = new LinkedHashMap<>(fromClass);
    if (generated != null) {
      generated.forEach((k, v) -> {
        if (managed.contains(k)) {
          out.put(k, v);
        }
      });
    }
    return out;
  }

  private static Container find(List<Container> containers, String name) {
    if (containers == null) {
      return null;
    }
    return containers.stream().filter(c -> name.equals(c.getName())).findFirst().orElse(null);
  }
}
