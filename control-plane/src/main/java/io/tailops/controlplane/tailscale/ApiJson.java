package io.tailops.controlplane.tailscale;

import static io.tailops.controlplane.JsonSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.TailscaleService;
import java.util.LinkedHashMap;
import java.util.Map;
import io.tailops.controlplane.DeviceRoutes;

/**
 * JSON mapping of Tailscale API v2 payloads. Tree-based and lenient: unknown fields are ignored and fields of an
 * unexpected type are treated as absent, so newer API versions do not break the operator.
 */
final class ApiJson {
  private ApiJson() {
  }

  /** The {@code message} of a Tailscale error body {@code {"message": "..."}}, or null. */
  static String errorMessage(byte[] body) {
    JsonNode n = readObject(body, MAPPER);
    if (n == null) {
      return null;
    }
    JsonNode m = n.get("message");
    return m != null && m.isTextual() && !m.asText().isBlank() ? m.asText() : null;
  }

  static Device toDevice(JsonNode d) {
    String name = text(d, "name");
    if (name != null && name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    JsonNode connected = d.get("connectedToControl");
    Boolean online = connected != null && connected.isBoolean() ? connected.booleanValue() : null;
    return new Device(text(d, "nodeId"), text(d, "id"), name, text(d, "hostname"), strings(d.get("addresses")),
        strings(d.get("tags")), time(d.get("lastSeen")), online, time(d.get("created")));
  }

  /** A Tailscale Service from its API object; annotations kept as sent, in order. */
  static TailscaleService toService(JsonNode s) {
    Map<String, String> annotations = new LinkedHashMap<>();
    JsonNode a = s.get("annotations");
    if (a != null && a.isObject()) {
      a.properties().forEach(e -> {
        if (e.getValue().isTextual()) {
          annotations.put(e.getKey(), e.getValue().asText());
        }
      });
    }
    return new TailscaleService(text(s, "name"), strings(s.get("addrs")), text(s, "comment"), annotations,
        strings(s.get("ports")), strings(s.get("tags")));
  }

  /** The API object of a Tailscale Service, every field omitted when empty (as the official client sends it). */
  static ObjectNode serviceJson(TailscaleService s) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("name", s.name());
    if (!s.addrs().isEmpty()) {
      s.addrs().forEach(n.putArray("addrs")::add);
    }
    if (!s.comment().isEmpty()) {
      n.put("comment", s.comment());
    }
    if (!s.annotations().isEmpty()) {
      ObjectNode a = n.putObject("annotations");
      s.annotations().forEach(a::put);
    }
    if (!s.ports().isEmpty()) {
      s.ports().forEach(n.putArray("ports")::add);
    }
    if (!s.tags().isEmpty()) {
      s.tags().forEach(n.putArray("tags")::add);
    }
    return n;
  }

  /** {@code {"advertisedRoutes":[...],"enabledRoutes":[...]}} (a missing list is empty). */
  static DeviceRoutes toRoutes(JsonNode r) {
    return new DeviceRoutes(strings(r.get("advertisedRoutes")), strings(r.get("enabledRoutes")));
  }
}
