package io.tailops.it.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * When an operator is done with the inputs: every parent is in its ready state and every proxy has logged in and lost
 * its auth key (the operator removes it from the config once the proxy reports a device). Judged from what a user sees,
 * the same way for both operators. A new kind of parent adds its rule to {@link #waitingFor(ClusterState)}; a Connector
 * is done when {@code ConnectorReady} is True and {@code status.devices} lists every replica with its tailnet IPs; a
 * parent served by a ProxyGroup as {@link #proxyGroup} says.
 */
final class Readiness {
  private static final Pattern AUTH_KEY = Pattern.compile("\"AuthKey\":\"[^\"]+\"");

  private Readiness() {
  }

  /** What is not ready yet, one line each; empty when everything is. */
  static List<String> waitingFor(ClusterState state) {
    List<String> waiting = new ArrayList<>();
    for (ClusterState.Observed o : state.inputs()) {
      GoldenInputs.Input in = o.input();
      ObjectNode live = o.live();
      if (live == null) {
        waiting.add(in.describe() + " does not exist");
        continue;
      }
      switch (in.kind()) {
        case "Service" -> {
          List<String> wanted = proxyGroup(live).isEmpty()
              ? (servedService(live) || egressService(live) ? List.of("TailscaleProxyReady") : List.of())
              : hasTailnetTarget(live) ? List.of("TailscaleEgressSvcConfigured", "TailscaleEgressSvcReady")
              : servedService(live) ? List.of("TailscaleIngressSvcConfigured") : List.of();
          for (String type : wanted) {
            if (!conditionTrue(live, type)) {
              waiting.add(in.describe() + ": condition " + type + " is not True");
            }
          }
        }
        case "Ingress" -> {
          boolean hostname = false;
          for (JsonNode i : live.path("status").path("loadBalancer").path("ingress")) {
            hostname |= !i.path("hostname").asText("").isEmpty();
          }
          if (ingressClass(live) && !hostname) {
            waiting.add(in.describe() + ": no hostname in status.loadBalancer.ingress");
          }
        }
        case "Connector" -> {
          readyConditions(in, live, waiting);
          int replicas = live.path("spec").path("replicas").asInt(1);
          JsonNode devices = live.path("status").path("devices");
          int withIps = 0;
          for (JsonNode d : devices) {
            withIps += d.path("tailnetIPs").isEmpty() ? 0 : 1;
          }
          if (withIps != replicas) {
            waiting.add(in.describe() + ": " + withIps + " of " + replicas + " devices in status.devices have tailnet"
                + " IPs");
          }
        }
        default -> {
          if (in.group().equals("tailscale.com")) {
            readyConditions(in, live, waiting);
          }
        }
      }
    }
    java.util.Map<String, ObjectNode> secrets = new java.util.HashMap<>();
    for (ObjectNode c : state.created()) {
      if (c.path("kind").asText().equals("Secret")) {
        secrets.put(c.path("metadata").path("name").asText(), c);
      }
    }
    for (ObjectNode c : state.created()) {
      if (!c.path("kind").asText().equals("Secret")) {
        continue;
      }
      JsonNode data = c.path("data");
      boolean config = false;
      boolean key = false;
      Iterator<Map.Entry<String, JsonNode>> it = data.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().startsWith("cap-") && e.getKey().endsWith(".hujson")) {
          config = true;
          String text = new String(Base64.getDecoder().decode(e.getValue().asText()), StandardCharsets.UTF_8);
          key |= AUTH_KEY.matcher(text).find();
        }
      }
      String name = c.path("metadata").path("name").asText();
      // A ProxyGroup replica's config Secret <pg>-<i>-config: the proxy reports its device in the state Secret <pg>-<i>.
      boolean separate = "config".equals(c.path("metadata").path("labels").path("tailscale.com/secret-type").asText())
          && name.endsWith("-config");
      JsonNode stateData = separate ? secrets.getOrDefault(name.substring(0, name.length() - "-config".length()),
          c).path("data") : data;
      if (config && !stateData.has("device_id")) {
        waiting.add("Secret " + name + ": no device_id (the proxy has not logged in)");
      } else if (config && key) {
        waiting.add("Secret " + name + ": the config still holds the auth key");
      }
    }
    return waiting;
  }

  /** Every {@code *Ready} condition of a tailscale.com resource is True (and there is at least one). */
  private static void readyConditions(GoldenInputs.Input in, JsonNode live, List<String> waiting) {
    boolean any = false;
    for (JsonNode c : live.path("status").path("conditions")) {
      if (c.path("type").asText().endsWith("Ready")) {
        any = true;
        if (!c.path("status").asText().equals("True")) {
          waiting.add(in.describe() + ": condition " + c.path("type").asText() + " is not True");
        }
      }
    }
    if (!any) {
      waiting.add(in.describe() + ": no Ready condition yet");
    }
  }

  /** A Service the operator serves with an ingress proxy (expose annotation or LoadBalancer class tailscale). */
  static boolean servedService(JsonNode svc) {
    return "true".equals(svc.path("metadata").path("annotations").path("tailscale.com/expose").asText())
        || ("LoadBalancer".equals(svc.path("spec").path("type").asText())
            && "tailscale".equals(svc.path("spec").path("loadBalancerClass").asText()));
  }

  /**
   * A Service with an egress proxy: {@code tailscale.com/tailnet-ip} (or the deprecated
   * {@code tailscale.com/ts-tailnet-target-ip}) or {@code tailscale.com/tailnet-fqdn}, not through a ProxyGroup.
   */
  static boolean egressService(JsonNode svc) {
    return hasTailnetTarget(svc) && proxyGroup(svc).isEmpty();
  }

  private static boolean hasTailnetTarget(JsonNode svc) {
    JsonNode a = svc.path("metadata").path("annotations");
    return !a.path("tailscale.com/tailnet-ip").asText().isEmpty()
        || !a.path("tailscale.com/ts-tailnet-target-ip").asText().isEmpty()
        || !a.path("tailscale.com/tailnet-fqdn").asText().isEmpty();
  }

  /**
   * The ProxyGroup a parent names ({@code tailscale.com/proxy-group}), or empty. Such a Service is served by the group:
   * with a tailnet target by an egress group (ready: {@code TailscaleEgressSvcConfigured} and
   * {@code TailscaleEgressSvcReady} True), as a LoadBalancer by an ingress group as a Tailscale Service (ready:
   * {@code TailscaleIngressSvcConfigured} True); such an Ingress is ready with a hostname in its status.
   */
  static String proxyGroup(JsonNode obj) {
    return obj.path("metadata").path("annotations").path("tailscale.com/proxy-group").asText("");
  }

  private static boolean ingressClass(JsonNode ing) {
    return "tailscale".equals(ing.path("spec").path("ingressClassName").asText());
  }

  private static boolean conditionTrue(JsonNode obj, String type) {
    for (JsonNode c : obj.path("status").path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return "True".equals(c.path("status").asText());
      }
    }
    return false;
  }
}
