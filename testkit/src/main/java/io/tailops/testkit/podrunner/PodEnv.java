package io.tailops.testkit.podrunner;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Secret;

/**
 * A container's environment as the kubelet computes it ({@code kubelet_pods.go makeEnvironmentVariables}): the
 * Service variables first, then {@code envFrom}, then each {@code env} entry in order, where a {@code value} has its
 * {@code $(VAR)} references expanded against the variables defined before it ({@code $$} is a literal {@code $}, an
 * unknown reference stays as written), and a {@code valueFrom} is resolved from the Pod ({@code fieldRef}), the
 * container's resources ({@code resourceFieldRef}), a Secret or a ConfigMap. Values from {@code valueFrom} and
 * {@code envFrom} are not expanded.
 */
final class PodEnv {

  private static final Pattern LABEL_REF = Pattern.compile("^metadata\\.(labels|annotations)\\['(.+)'\\]$");

  /** Why an environment cannot be built (the kubelet reports this as {@code CreateContainerConfigError}). */
  static final class EnvException extends Exception {
    EnvException(String message) {
      super(message);
    }
  }

  /** Reads Secrets and ConfigMaps of the Pod's namespace by name (null when missing). */
  record Sources(BiFunction<String, String, Secret> secret, BiFunction<String, String, ConfigMap> configMap) {
  }

  private PodEnv() {
  }

  /**
   * @param serviceEnv variables the kubelet adds for Services (e.g. {@code KUBERNETES_SERVICE_HOST}); the container's
   *     own variables win
   * @param podIp the address {@code status.podIP} resolves to
   * @param hostIp the address {@code status.hostIP} resolves to
   */
  static Map<String, String> resolve(Pod pod, Container c, Map<String, String> serviceEnv, String podIp,
      String hostIp, String nodeName, Sources sources) throws EnvException {
    String ns = pod.getMetadata().getNamespace();
    Map<String, String> env = new LinkedHashMap<>();
    if (c.getEnvFrom() != null) {
      for (EnvFromSource from : c.getEnvFrom()) {
        String prefix = from.getPrefix() == null ? "" : from.getPrefix();
        if (from.getConfigMapRef() != null) {
          ConfigMap cm = sources.configMap().apply(ns, from.getConfigMapRef().getName());
          if (cm == null) {
            if (!Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
              throw new EnvException("configmap \"" + from.getConfigMapRef().getName() + "\" not found");
            }
          } else if (cm.getData() != null) {
            cm.getData().forEach((k, v) -> env.put(prefix + k, v));
          }
        }
        if (from.getSecretRef() != null) {
          Secret s = sources.secret().apply(ns, from.getSecretRef().getName());
          if (s == null) {
            if (!Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
              throw new EnvException("secret \"" + from.getSecretRef().getName() + "\" not found");
            }
          } else {
            secretData(s).forEach((k, v) -> env.put(prefix + k, v));
          }
        }
      }
    }
    if (c.getEnv() != null) {
      for (EnvVar e : c.getEnv()) {
        String value;
        if (e.getValueFrom() == null) {
          value = e.getValue() == null || e.getValue().isEmpty() ? "" : expand(e.getValue(), name -> {
            String v = env.get(name);
            return v != null ? v : serviceEnv.get(name);
          });
        } else {
          Optional<String> v = valueFrom(pod, c, e.getName(), e.getValueFrom(), podIp, hostIp, nodeName, sources);
          if (v.isEmpty()) {
            continue; // an optional reference to something missing: the variable is not set
          }
          value = v.get();
        }
        env.put(e.getName(), value);
      }
    }
    Map<String, String> out = new LinkedHashMap<>(serviceEnv);
    out.putAll(env);
    return out;
  }

  private static Optional<String> valueFrom(Pod pod, Container c, String name, EnvVarSource src, String podIp,
      String hostIp, String nodeName, Sources sources) throws EnvException {
    String ns = pod.getMetadata().getNamespace();
    if (src.getFieldRef() != null) {
      return Optional.of(field(pod, src.getFieldRef().getFieldPath(), podIp, hostIp, nodeName));
    }
    if (src.getResourceFieldRef() != null) {
      return Optional.of(resource(c, src.getResourceFieldRef().getResource(),
          src.getResourceFieldRef().getDivisor()));
    }
    if (src.getSecretKeyRef() != null) {
      var ref = src.getSecretKeyRef();
      boolean optional = Boolean.TRUE.equals(ref.getOptional());
      Secret s = sources.secret().apply(ns, ref.getName());
      if (s == null) {
        if (optional) {
          return Optional.empty();
        }
        throw new EnvException("secret \"" + ref.getName() + "\" not found");
      }
      String v = secretData(s).get(ref.getKey());
      if (v == null) {
        if (optional) {
          return Optional.empty();
        }
        throw new EnvException("couldn't find key " + ref.getKey() + " in Secret " + ns + "/" + ref.getName());
      }
      return Optional.of(v);
    }
    if (src.getConfigMapKeyRef() != null) {
      var ref = src.getConfigMapKeyRef();
      boolean optional = Boolean.TRUE.equals(ref.getOptional());
      ConfigMap cm = sources.configMap().apply(ns, ref.getName());
      String v = cm == null || cm.getData() == null ? null : cm.getData().get(ref.getKey());
      if (v == null) {
        if (optional) {
          return Optional.empty();
        }
        throw new EnvException(cm == null ? "configmap \"" + ref.getName() + "\" not found"
            : "couldn't find key " + ref.getKey() + " in ConfigMap " + ns + "/" + ref.getName());
      }
      return Optional.of(v);
    }
    throw new EnvException("environment variable " + name + ": unsupported valueFrom " + src);
  }

  /** A downward-API field ({@code fieldRef.fieldPath}). */
  static String field(Pod pod, String path, String podIp, String hostIp, String nodeName) throws EnvException {
    var m = pod.getMetadata();
    switch (path) {
      case "metadata.name":
        return m.getName();
      case "metadata.namespace":
        return m.getNamespace();
      case "metadata.uid":
        return m.getUid();
      case "spec.nodeName":
        return pod.getSpec().getNodeName() != null ? pod.getSpec().getNodeName() : nodeName;
      case "spec.serviceAccountName":
        return pod.getSpec().getServiceAccountName() == null ? "" : pod.getSpec().getServiceAccountName();
      case "status.podIP":
      case "status.podIPs":
        return podIp;
      case "status.hostIP":
      case "status.hostIPs":
        return hostIp;
      default:
        Matcher lm = LABEL_REF.matcher(path);
        if (lm.matches()) {
          Map<String, String> map = "labels".equals(lm.group(1)) ? m.getLabels() : m.getAnnotations();
          String v = map == null ? null : map.get(lm.group(2));
          return v == null ? "" : v;
        }
        throw new EnvException("unsupported fieldRef " + path);
    }
  }

  /** {@code resourceFieldRef}: a limit (or, without one, the request) divided by the divisor, rounded up. */
  static String resource(Container c, String resource, Quantity divisor) throws EnvException {
    ResourceRequirements r = c.getResources();
    String kind;
    Map<String, Quantity> primary;
    Map<String, Quantity> fallback;
    if (resource.startsWith("limits.")) {
      kind = resource.substring("limits.".length());
      primary = r == null ? null : r.getLimits();
      fallback = r == null ? null : r.getRequests();
    } else if (resource.startsWith("requests.")) {
      kind = resource.substring("requests.".length());
      primary = r == null ? null : r.getRequests();
      fallback = null;
    } else {
      throw new EnvException("unsupported resourceFieldRef " + resource);
    }
    Quantity q = primary != null && primary.get(kind) != null ? primary.get(kind)
        : fallback != null ? fallback.get(kind) : null;
    BigDecimal value;
    if (q != null) {
      value = q.getNumericalAmount();
    } else if ("cpu".equals(kind)) {
      value = BigDecimal.valueOf(Runtime.getRuntime().availableProcessors()); // node allocatable, as the kubelet
    } else if ("memory".equals(kind)) {
      value = BigDecimal.valueOf(Runtime.getRuntime().maxMemory());
    } else {
      value = BigDecimal.ZERO;
    }
    BigDecimal d = divisor == null || divisor.getAmount() == null ? BigDecimal.ONE : divisor.getNumericalAmount();
    if (d.signum() == 0) {
      d = BigDecimal.ONE;
    }
    return value.divide(d, 0, RoundingMode.CEILING).toPlainString();
  }

  static Map<String, String> secretData(Secret s) {
    Map<String, String> out = new LinkedHashMap<>();
    if (s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (s.getStringData() != null) {
      out.putAll(s.getStringData());
    }
    return out;
  }

  /**
   * Kubernetes' variable expansion ({@code third_party/forked/golang/expansion}): {@code $(NAME)} becomes
   * {@code mapping(NAME)}, or stays {@code $(NAME)} when the mapping has none; {@code $$} becomes {@code $}; any other
   * {@code $} is kept.
   */
  static String expand(String input, java.util.function.Function<String, String> mapping) {
    StringBuilder buf = new StringBuilder();
    int checkpoint = 0;
    for (int cursor = 0; cursor < input.length(); cursor++) {
      if (input.charAt(cursor) == '$' && cursor + 1 < input.length()) {
        buf.append(input, checkpoint, cursor);
        String rest = input.substring(cursor + 1);
        String read;
        boolean isVar;
        int advance;
        char first = rest.charAt(0);
        if (first == '$') {
          read = "$";
          isVar = false;
          advance = 1;
        } else if (first == '(') {
          int close = rest.indexOf(')', 1);
          if (close > 0) {
            read = rest.substring(1, close);
            isVar = true;
            advance = close + 1;
          } else {
            read = "$(";
            isVar = false;
            advance = 1;
          }
        } else {
          read = "$" + first;
          isVar = false;
          advance = 1;
        }
        if (isVar) {
          String v = mapping.apply(read);
          buf.append(v != null ? v : "$(" + read + ")");
        } else {
          buf.append(read);
        }
        cursor += advance;
        checkpoint = cursor + 1;
      }
    }
    return buf.append(input.substring(Math.min(checkpoint, input.length()))).toString();
  }

  /** Expands {@code $(VAR)} in {@code words} (a container's command or args) against {@code env}. */
  static List<String> expandAll(List<String> words, Map<String, String> env) {
    return words == null ? List.of() : words.stream().map(w -> expand(w, env::get)).toList();
  }
}
