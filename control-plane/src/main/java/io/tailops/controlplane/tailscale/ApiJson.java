package io.tailops.controlplane.tailscale;

import static io.tailops.controlplane.JsonSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.tailops.controlplane.Device;
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

  /** {@code {"advertisedRoutes":[...],"enabledRoutes":[...]}} (a missing list is empty). */
  static DeviceRoutes toRoutes(JsonNode r) {
    return new DeviceRoutes(strings(r.get("advertisedRoutes")), strings(r.get("enabledRoutes")));
  }
}
