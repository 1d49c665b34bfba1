package io.tailops.operator.proxyclass;

import io.tailops.api.v1alpha1.ContainerConfig;
import io.tailops.api.v1alpha1.EnvVarConfig;
import io.tailops.api.v1alpha1.PodConfig;
import io.tailops.api.v1alpha1.PortRange;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.ProxyClassSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates a ProxyClass as the official operator does (§4.2): labels and annotations, images, no debug on the init
 * container, ServiceMonitor only with its CRD, static endpoint port ranges. Errors are worded like Kubernetes field
 * errors ({@code spec.statefulSet.labels: Invalid value: "x": …}); warnings are the {@code CustomTSEnvVar} ones.
 */
public final class ProxyClassValidator {
  static final Pattern LABEL_VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
  static final Pattern NAME_PART = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
  static final Pattern DNS_SUBDOMAIN = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  /** Docker reference grammar: [registry[:port]/]path[:tag][@digest]. */
  static final Pattern IMAGE = Pattern.compile("^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
      + "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?"
      + "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*"
      + "(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$");
  static final Set<String> SPECIAL_ENV = Set.of("EXPERIMENTAL_TS_CONFIGFILE_PATH",
      "EXPERIMENTAL_ALLOW_PROXYING_CLUSTER_TRAFFIC_VIA_INGRESS");
  static final int MAX_ANNOTATIONS_BYTES = 256 * 1024;

  /** The outcome: field errors (the class is invalid when non-empty) and warnings (events only). */
  public record Result(List<String> errors, List<String> warnings) {
    public boolean valid() {
      return errors.isEmpty();
    }

    /** The official message: one error as is, several as {@code [a, b]}. */
    public String message() {
      String agg = errors.size() == 1 ? errors.get(0) : "[" + String.join(", ", errors) + "]";
      return "ProxyClass is not valid: " + agg;
    }
  }

  private ProxyClassValidator() {
  }

  /**
   * @param serviceMonitorCrdExists whether {@code servicemonitors.monitoring.coreos.com} is installed (null = unknown,
   *     which is accepted)
   */
  public static Result validate(ProxyClass pc, Boolean serviceMonitorCrdExists) {
    List<String> errors = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    ProxyClassSpec spec = pc.getSpec();
    if (spec == null) {
      return new Result(errors, warnings);
    }
    if (spec.getStatefulSet() != null) {
      labels(".spec.statefulSet.labels", spec.getStatefulSet().getLabels(), errors);
      annotations(".spec.statefulSet.annotations", spec.getStatefulSet().getAnnotations(), errors);
      PodConfig pod = spec.getStatefulSet().getPod();
      if (pod != null) {
        labels(".spec.statefulSet.pod.labels", pod.getLabels(), errors);
        annotations(".spec.statefulSet.pod.annotations", pod.getAnnotations(), errors);
        container(".spec.statefulSet.pod.tailscaleContainer", pod.getTailscaleContainer(), errors);
        container(".spec.statefulSet.pod.tailscaleInitContainer", pod.getTailscaleInitContainer(), errors);
        if (pod.getTailscaleInitContainer() != null && pod.getTailscaleInitContainer().getDebug() != null) {
          errors.add(".spec.statefulSet.pod.tailscaleInitContainer.debug: Invalid value: \"enable\": debug settings "
              + "cannot be configured on the init container");
        }
        if (pod.getTailscaleContainer() != null && pod.getTailscaleContainer().getEnv() != null) {
          for (EnvVarConfig e : pod.getTailscaleContainer().getEnv()) {
            String n = e.getName() == null ? "" : e.getName();
            if (n.startsWith("TS_") || SPECIAL_ENV.contains(n.toUpperCase(Locale.ROOT))) {
              warnings.add("ProxyClass overrides the default value for " + n + " env var for tailscale container. "
                  + "Running with custom values for Tailscale env vars is not recommended and might break in the "
                  + "future.");
            }
          }
        }
      }
    }
    if (spec.getMetrics() != null && spec.getMetrics().getServiceMonitor() != null) {
      var sm = spec.getMetrics().getServiceMonitor();
      if (Boolean.TRUE.equals(sm.getEnable())) {
        if (!Boolean.TRUE.equals(spec.getMetrics().getEnable())) {
          errors.add(".spec.metrics.serviceMonitor.enable: Invalid value: true: ServiceMonitor can only be enabled "
              + "if metrics are enabled");
        }
        if (Boolean.FALSE.equals(serviceMonitorCrdExists)) {
          errors.add(".spec.metrics.serviceMonitor: Invalid value: \"enable\": ProxyClass defines that a "
              + "ServiceMonitor custom resource should be created, but \"servicemonitors.monitoring.coreos.com\" CRD "
              + "was not found");
        }
      }
      labels(".spec.metrics.serviceMonitor.labels", sm.getLabels(), errors);
    }
    if (spec.getStaticEndpoints() != null && spec.getStaticEndpoints().getNodePort() != null
        && spec.getStaticEndpoints().getNodePort().getPorts() != null) {
      List<PortRange> ranges = spec.getStaticEndpoints().getNodePort().getPorts();
      for (int i = 0; i < ranges.size(); i++) {
        PortRange r = ranges.get(i);
        int port = r.getPort() == null ? 0 : r.getPort();
        int end = r.getEndPort() == null ? 0 : r.getEndPort();
        if (port <= 0 || port > 65535 || end < 0 || end > 65535 || end != 0 && port > end) {
          errors.add(".spec.staticEndpoints.nodePort.ports[" + i + "]: Invalid value: \"" + range(r)
              + "\": port range is not valid");
          continue;
        }
        for (int j = 0; j < i; j++) {
          PortRange o = ranges.get(j);
          if (overlaps(r, o)) {
            errors.add(".spec.staticEndpoints.nodePort.ports[" + i + "]: Invalid value: \"" + range(r)
                + "\": port range overlaps with " + range(o));
          }
        }
      }
    }
    return new Result(errors, warnings);
  }

  private static void container(String path, ContainerConfig c, List<String> errors) {
    if (c == null) {
      return;
    }
    if (c.getImage() != null && !c.getImage().isEmpty() && !IMAGE.matcher(c.getImage()).matches()) {
      errors.add(path + ".image: Invalid value: \"" + c.getImage() + "\": invalid reference format");
    }
  }

  static void labels(String path, Map<String, String> labels, List<String> errors) {
    if (labels == null) {
      return;
    }
    labels.forEach((k, v) -> {
      String keyError = qualifiedNameError(k);
      if (keyError != null) {
        errors.add(path + ": Invalid value: \"" + k + "\": " + keyError);
      }
      String value = v == null ? "" : v;
      if (value.length() > 63) {
        errors.add(path + ": Invalid value: \"" + value + "\": must be no more than 63 characters");
      } else if (!LABEL_VALUE.matcher(value).matches()) {
        errors.add(path + ": Invalid value: \"" + value + "\": a valid label must be an empty string or consist of "
            + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
      }
    });
  }

  static void annotations(String path, Map<String, String> annotations, List<String> errors) {
    if (annotations == null) {
      return;
    }
    int total = 0;
    for (var e : annotations.entrySet()) {
      String keyError = qualifiedNameError(e.getKey());
      if (keyError != null) {
        errors.add(path + ": Invalid value: \"" + e.getKey() + "\": " + keyError);
      }
      total += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
    }
    if (total > MAX_ANNOTATIONS_BYTES) {
      errors.add(path + ": Too long: must have at most " + MAX_ANNOTATIONS_BYTES + " bytes");
    }
  }

  /** Kubernetes qualified name rules for label and annotation keys; null when valid. */
  static String qualifiedNameError(String key) {
    if (key == null || key.isEmpty()) {
      return "name part must be non-empty";
    }
    String name = key;
    int slash = key.lastIndexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty()) {
        return "prefix part must be non-empty";
      }
      if (prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
        return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
            + "or '.', and must start and end with an alphanumeric character";
      }
    }
    if (name.isEmpty()) {
      return "name part must be non-empty";
    }
    if (name.length() > 63) {
      return "name part must be no more than 63 characters";
    }
    if (!NAME_PART.matcher(name).matches()) {
      return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
          + "alphanumeric character";
    }
    return null;
  }

  private static String range(PortRange r) {
    return r.getEndPort() == null || r.getEndPort() == 0 ? String.valueOf(r.getPort())
        : r.getPort() + "-" + r.getEndPort();
  }

  private static boolean overlaps(PortRange a, PortRange b) {
    int aEnd = a.getEndPort() == null || a.getEndPort() == 0 ? a.getPort() : a.getEndPort();
    int bEnd = b.getEndPort() == null || b.getEndPort() == 0 ? b.getPort() : b.getEndPort();
    return a.getPort() <= bEnd && b.getPort() <= aEnd;
  }
}
