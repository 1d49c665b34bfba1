package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * The wire contract of a Service egressing through a ProxyGroup (official {@code kube/egressservices} and
 * {@code egress-services.go}), pure: the ports of the ClusterIP Service in front of the group's replicas (each target
 * port mapped to a container port 10000–10999 unique on the group, plus the health check port), the entry of the
 * group's ConfigMap key {@code egress-services}, whether a replica's state Secret status says it routes the entry, and
 * the Configured condition's reason.
 */
public final class EgressServiceConfig {
  /** The name of the health check port of the ClusterIP Service (not an egress port). */
  public static final String HEALTH_CHECK_PORT_NAME = "tailscale-health-check";
  /** containerboot's health check and metrics port ({@code TS_LOCAL_ADDR_PORT} default). */
  public static final int LOCAL_ADDR_PORT = 9002;
  /** How many container ports one group can map (official {@code maxPorts}). */
  public static final int MAX_PORTS = 1000;
  static final String UNNAMED = "tailscale-unnamed";
  private static final ObjectMapper JSON = new ObjectMapper();

  private EgressServiceConfig() {
  }

  /** A port mapping of the proxies: traffic to {@code matchPort} on the pod goes to {@code targetPort} on the target. */
  public record PortMap(String protocol, int matchPort, int targetPort) {
  }

  /**
   * The ports of the ClusterIP Service (official {@code provision}): the existing mappings the Service still asks for
   * kept (renamed as the Service names them), those it no longer asks for dropped, a new container port for each new
   * one, and the health check port last (9002, or the next port the Service does not use).
   *
   * @param wanted the user's Service's ports
   * @param existing the ClusterIP Service's ports now (empty when it does not exist)
   * @param used the container ports already mapped on the group (by every egress Service of it)
   * @param random a port in [10000, 10999]
   * @throws IllegalStateException when the group has no free container port or no health check port is free
   */
  public static List<ServicePort> clusterIpPorts(List<ServicePort> wanted, List<ServicePort> existing, Set<Integer> used,
      IntSupplier random) {
    Set<Integer> taken = new HashSet<>(used);
    List<ServicePort> out = new ArrayList<>();
    for (ServicePort have : existing) {
      if (HEALTH_CHECK_PORT_NAME.equals(have.getName())) {
        continue;
      }
      for (ServicePort want : wanted) {
        if (Objects.equals(want.getPort(), have.getPort()) && protocol(want).equalsIgnoreCase(protocol(have))) {
          out.add(new ServicePortBuilder(have).withName(name(want)).build());
          break;
        }
      }
    }
    for (ServicePort want : wanted) {
      boolean found = out.stream().anyMatch(p -> Objects.equals(p.getPort(), want.getPort())
          && protocol(p).equalsIgnoreCase(protocol(want)));
      if (found) {
        continue;
      }
      if (taken.size() >= MAX_PORTS) {
        throw new IllegalStateException("unable to allocate additional ports on ProxyGroup, " + MAX_PORTS + " ports "
            + "already used. Create another ProxyGroup or open an issue if you believe this is unexpected.");
      }
      int p;
      do {
        p = random.getAsInt();
      } while (taken.contains(p));
      taken.add(p);
      out.add(new ServicePortBuilder().withName(name(want)).withProtocol(want.getProtocol()).withPort(want.getPort())
          .withTargetPort(new IntOrString(p)).build());
    }
    int health = LOCAL_ADDR_PORT;
    while (true) {
      final int h = health;
      if (wanted.stream().noneMatch(p -> Objects.equals(p.getPort(), h))) {
        break;
      }
      health++;
      if (health > 10002) {
        throw new IllegalStateException("unable to find a free port for internal health check in range [9002, 10002]");
      }
    }
    out.add(new ServicePortBuilder().withName(HEALTH_CHECK_PORT_NAME).withProtocol("TCP").withPort(health)
        .withTargetPort(new IntOrString(LOCAL_ADDR_PORT)).build());
    return out;
  }

  private static String name(ServicePort p) {
    return p.getName() == null || p.getName().isEmpty() ? UNNAMED : p.getName();
  }

  private static String protocol(ServicePort p) {
    return p.getProtocol() == null ? "TCP" : p.getProtocol();
  }

  /** The egress port mappings of the ClusterIP Service's ports (the health check port left out). */
  public static Set<PortMap> portMaps(List<ServicePort> clusterIpPorts) {
    Set<PortMap> out = new java.util.LinkedHashSet<>();
    for (ServicePort p : clusterIpPorts) {
      if (HEALTH_CHECK_PORT_NAME.equals(p.getName())) {
        continue;
      }
      out.add(new PortMap(protocol(p), p.getTargetPort().getIntVal(), p.getPort()));
    }
    return out;
  }

  /** The health check URL of the ClusterIP Service, or empty when it has no health check port. */
  public static String healthCheckEndpoint(String name, String namespace, String clusterDomain,
      List<ServicePort> ports) {
    return ports.stream().filter(p -> HEALTH_CHECK_PORT_NAME.equals(p.getName())).findFirst()
        .map(p -> "http://" + name + "." + namespace + ".svc." + clusterDomain + ":" + p.getPort() + "/healthz")
        .orElse("");
  }

  /** The entry of {@code egress-services} ({@code egressservices.Config}), fields in Go's order. */
  public static ObjectNode entry(EgressGroupPlanner.Target target, String healthCheckEndpoint, Set<PortMap> ports) {
    ObjectNode n = JSON.createObjectNode();
    n.put("healthCheckEndpoint", healthCheckEndpoint);
    n.set("tailnetTarget", target(target));
    n.set("ports", ports(ports));
    return n;
  }

  private static ObjectNode target(EgressGroupPlanner.Target t) {
    ObjectNode n = JSON.createObjectNode();
    n.put("ip", t.ip());
    n.put("fqdn", t.fqdn());
    return n;
  }

  private static ArrayNode ports(Set<PortMap> ports) {
    ArrayNode a = JSON.createArrayNode();
    for (PortMap p : ports) {
      a.addObject().put("protocol", p.protocol()).put("matchPort", p.matchPort()).put("targetPort", p.targetPort());
    }
    return a;
  }

  /** The port mappings of a JSON array of them, as a set (their order carries no meaning). */
  static Set<PortMap> portsOf(JsonNode array) {
    Set<PortMap> out = new HashSet<>();
    if (array != null && array.isArray()) {
      for (JsonNode p : array) {
        out.add(new PortMap(p.path("protocol").asText(""), p.path("matchPort").asInt(), p.path("targetPort").asInt()));
      }
    }
    return out;
  }

  /**
   * Whether a replica's egress status (state Secret key {@code egress-services}, written by containerboot:
   * {@code {"podIPv4":…,"services":{name:{"ports":[…],"tailnetTargetIPs":[…],"tailnetTarget":{…}}}}}) says it routes
   * {@code entry} for {@code service} from its current pod IP (official {@code podIsReadyToRouteTraffic}).
   */
  /**
   * The Services whose EndpointSlice does not agree with what one replica reports: it routes a Service whose slice does
   * not list it, or no longer routes one whose slice does.
   *
   * @param podIPv4 the replica pod's IPv4 address ("" when it has none: nothing to compare)
   * @param status the replica's {@code egress-services} status (null when none)
   * @param entries the group's {@code egress-services} configuration, by Service key
   * @param listed per Service ({@code <namespace>/<name>}), the addresses its EndpointSlice lists
   */
  public static List<Service> disagreeing(List<Service> services, String podIPv4, JsonNode status,
      Map<String, JsonNode> entries, Map<String, Set<String>> listed) {
    List<Service> out = new ArrayList<>();
    if (podIPv4 == null || podIPv4.isEmpty()) {
      return out;
    }
    for (Service s : services) {
      String key = EgressGroupPlanner.tailnetService(s);
      JsonNode entry = entries.get(key);
      boolean routes = entry != null && routes(status, podIPv4, key, entry);
      boolean inSlice = listed.getOrDefault(s.getMetadata().getNamespace() + "/" + s.getMetadata().getName(), Set.of())
          .contains(podIPv4);
      if (routes != inSlice) {
        out.add(s);
      }
    }
    return out;
  }

  public static boolean routes(JsonNode status, String podIPv4, String service, JsonNode entry) {
    if (status == null || podIPv4 == null || podIPv4.isEmpty()
        || !podIPv4.equalsIgnoreCase(status.path("podIPv4").asText(""))) {
      return false;
    }
    JsonNode st = status.path("services").path(service);
    if (!st.isObject()) {
      return false;
    }
    JsonNode gotTarget = st.path("tailnetTarget");
    JsonNode wantTarget = entry.path("tailnetTarget");
    if (!gotTarget.path("ip").asText("").equals(wantTarget.path("ip").asText(""))
        || !gotTarget.path("fqdn").asText("").equals(wantTarget.path("fqdn").asText(""))) {
      return false;
    }
    return portsOf(st.path("ports")).equals(portsOf(entry.path("ports")));
  }

  /**
   * The reason of the Configured condition (official {@code svcConfiguredReason}):
   * {@code ConfiguredFor:ProxyGroup:<pg>:Config:<sha256>} or {@code ConfigurationFailed:ProxyGroup:…}, the hash over
   * the Service's ports, target and group as Go's encoder writes them, so that the reason is the official one.
   */
  public static String configuredReason(boolean configured, String group, List<ServicePort> ports,
      EgressGroupPlanner.Target target) {
    StringBuilder json = new StringBuilder("{\"ports\":");
    if (ports == null || ports.isEmpty()) {
      json.append("null");
    } else {
      json.append('[');
      for (int i = 0; i < ports.size(); i++) {
        if (i > 0) {
          json.append(',');
        }
        json.append(goServicePort(ports.get(i)));
      }
      json.append(']');
    }
    json.append(",\"tailnetTarget\":{\"ip\":").append(quote(target.ip())).append(",\"fqdn\":")
        .append(quote(target.fqdn())).append("},\"proxyGroup\":").append(quote(group)).append('}');
    return (configured ? "ConfiguredFor:" : "ConfigurationFailed:") + "ProxyGroup:" + group + ":Config:"
        + sha256(json.toString());
  }

  /** A ServicePort as Go's encoder writes {@code corev1.ServicePort}. */
  static String goServicePort(ServicePort p) {
    StringBuilder b = new StringBuilder("{");
    boolean first = true;
    if (p.getName() != null && !p.getName().isEmpty()) {
      b.append("\"name\":").append(quote(p.getName()));
      first = false;
    }
    if (p.getProtocol() != null && !p.getProtocol().isEmpty()) {
      b.append(first ? "" : ",").append("\"protocol\":").append(quote(p.getProtocol()));
      first = false;
    }
    if (p.getAppProtocol() != null && !p.getAppProtocol().isEmpty()) {
      b.append(first ? "" : ",").append("\"appProtocol\":").append(quote(p.getAppProtocol()));
      first = false;
    }
    b.append(first ? "" : ",").append("\"port\":").append(p.getPort() == null ? 0 : p.getPort());
    IntOrString t = p.getTargetPort();
    b.append(",\"targetPort\":");
    if (t == null) {
      b.append('0');
    } else if (t.getStrVal() != null) {
      b.append(quote(t.getStrVal()));
    } else {
      b.append(t.getIntVal() == null ? 0 : t.getIntVal());
    }
    if (p.getNodePort() != null && p.getNodePort() != 0) {
      b.append(",\"nodePort\":").append(p.getNodePort());
    }
    return b.append('}').toString();
  }

  private static String quote(String s) {
    try {
      return JSON.writeValueAsString(s == null ? "" : s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The generateName prefix of the ClusterIP Service ({@code ts-<name>-}, shortened so that the generated name fits
   * 248 characters; official {@code svcNameBase}).
   */
  public static String namePrefix(String serviceName) {
    String base = "ts-" + serviceName + "-";
    int max = 253 - 5;
    int excess = base.length() + 5 - max;
    if (excess > 0) {
      base = base.substring(0, base.length() - 1 - excess) + "-";
    }
    return base.toLowerCase(Locale.ROOT);
  }
}
