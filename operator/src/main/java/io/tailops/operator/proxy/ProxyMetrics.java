package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.tailops.api.v1alpha1.ProxyClass;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The metrics Service of a proxy and its optional Prometheus ServiceMonitor (official behaviour §4.5): Service
 * {@code <sts>-metrics} on port 9002 selecting the proxy pod, with the labels Prometheus jobs are built from. Besides
 * the official labels it carries the proxy's child labels, so that it is found and cleaned up with the proxy.
 */
public final class ProxyMetrics {
  public static final String SERVICE_MONITOR_API = "monitoring.coreos.com/v1";

  private ProxyMetrics() {
  }

  public static String serviceName(String statefulSet) {
    return statefulSet + "-metrics";
  }

  public static boolean enabled(ProxyClass pc) {
    return pc != null && pc.getSpec() != null && pc.getSpec().getMetrics() != null
        && Boolean.TRUE.equals(pc.getSpec().getMetrics().getEnable());
  }

  /**
   * Whether {@code spec}'s proxy gets a metrics Service: its ProxyClass enables metrics and it is not an egress proxy
   * (upstream enables no metrics for egress proxies, which forward everything sent to the pod to the tailnet).
   */
  public static boolean enabled(ProxySpec spec) {
    return !spec.target().egress() && enabled(spec.proxyClass());
  }

  /** Whether {@code spec}'s proxy gets a ServiceMonitor (see {@link #enabled(ProxySpec)}). */
  public static boolean serviceMonitorEnabled(ProxySpec spec) {
    return !spec.target().egress() && serviceMonitorEnabled(spec.proxyClass());
  }

  public static boolean serviceMonitorEnabled(ProxyClass pc) {
    return enabled(pc) && pc.getSpec().getMetrics().getServiceMonitor() != null
        && Boolean.TRUE.equals(pc.getSpec().getMetrics().getServiceMonitor().getEnable());
  }

  /**
   * {@code ingress_service} for Service proxies, {@code ingress_resource} for Ingress proxies, {@code connector} for
   * Connectors.
   */
  static String proxyType(ProxySpec spec) {
    if (spec.target() instanceof ProxyTarget.Connector) {
      return "connector";
    }
    return spec.isIngressProxy() ? "ingress_resource" : "ingress_service";
  }

  /** As upstream: the parent's namespace is in the labels and the job name only for namespaced parents. */
  static Map<String, String> labels(ProxySpec spec, String statefulSet) {
    String type = proxyType(spec);
    boolean namespaced = !(spec.target() instanceof ProxyTarget.Connector);
    Map<String, String> l = new LinkedHashMap<>(ChildLabels.of(spec.parent()));
    l.put("tailscale.com/metrics-target", statefulSet);
    l.put("ts_proxy_type", type);
    l.put("ts_proxy_parent_name", DerivedNames.labelValue(spec.parent().name()));
    if (namespaced) {
      l.put("ts_proxy_parent_namespace", spec.parent().namespace());
    }
    l.put("ts_prom_job", DerivedNames.labelValue("ts_" + type + "_" + (namespaced ? spec.parent().namespace() + "_"
        : "") + spec.parent().name()));
    return l;
  }

  /** On the metrics Service: whether a ServiceMonitor should exist, so that toggling it rewrites the Service. */
  public static final String SERVICE_MONITOR_ANNOTATION = "tailscale.com/service-monitor";

  public static Service service(ProxySpec spec, String statefulSet, String namespace) {
    return new ServiceBuilder()
        .withNewMetadata().withName(serviceName(statefulSet)).withNamespace(namespace)
        .withLabels(labels(spec, statefulSet))
        .addToAnnotations(SERVICE_MONITOR_ANNOTATION, Boolean.toString(serviceMonitorEnabled(spec.proxyClass())))
        .endMetadata()
        .withNewSpec().withType("ClusterIP").withSelector(ChildLabels.of(spec.parent()))
        .addNewPort().withName("metrics").withPort(9002).withProtocol("TCP").endPort()
        .endSpec().build();
  }

  /** Whether the live metrics Service has the desired labels, ports and selector. */
  static boolean matches(Service live, Service desired) {
    ServicePort lp = live.getSpec().getPorts() == null || live.getSpec().getPorts().isEmpty() ? null
        : live.getSpec().getPorts().get(0);
    String sm = live.getMetadata().getAnnotations() == null ? null
        : live.getMetadata().getAnnotations().get(SERVICE_MONITOR_ANNOTATION);
    return Objects.equals(sm, desired.getMetadata().getAnnotations().get(SERVICE_MONITOR_ANNOTATION))
        && live.getMetadata().getLabels() != null
        && live.getMetadata().getLabels().entrySet().containsAll(desired.getMetadata().getLabels().entrySet())
        && Objects.equals(live.getSpec().getSelector(), desired.getSpec().getSelector())
        && live.getSpec().getPorts().size() == 1 && lp != null && "metrics".equals(lp.getName())
        && Objects.equals(lp.getPort(), 9002);
  }

  /** The ServiceMonitor: same name as the metrics Service, owned by it, scraping its {@code metrics} port. */
  public static GenericKubernetesResource serviceMonitor(ProxySpec spec, Service metricsService) {
    Map<String, String> labels = new LinkedHashMap<>();
    var sm = spec.proxyClass().getSpec().getMetrics().getServiceMonitor();
    if (sm.getLabels() != null) {
      labels.putAll(sm.getLabels());
    }
    Map<String, String> metricsLabels = new LinkedHashMap<>(metricsService.getMetadata().getLabels());
    labels.putAll(metricsLabels);
    Map<String, Object> specMap = new LinkedHashMap<>();
    specMap.put("selector", Map.of("matchLabels", metricsLabels));
    specMap.put("endpoints", List.of(Map.of("port", "metrics")));
    specMap.put("namespaceSelector", Map.of("matchNames", List.of(metricsService.getMetadata().getNamespace())));
    specMap.put("jobLabel", "ts_prom_job");
    specMap.put("targetLabels", List.of("ts_proxy_parent_name", "ts_proxy_parent_namespace", "ts_proxy_type"));
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(SERVICE_MONITOR_API).withKind("ServiceMonitor")
        .withNewMetadata().withName(metricsService.getMetadata().getName())
        .withNamespace(metricsService.getMetadata().getNamespace()).withLabels(labels)
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("v1").withKind("Service")
            .withName(metricsService.getMetadata().getName()).withUid(metricsService.getMetadata().getUid())
            .withController(true).withBlockOwnerDeletion(true).build())
        .endMetadata()
        .addToAdditionalProperties("spec", specMap)
        .build();
  }
}
