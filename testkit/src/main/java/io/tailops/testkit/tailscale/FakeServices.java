package io.tailops.testkit.tailscale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Tailscale Services ("VIP services") of the fake tailnet, as the API keeps them (wire contract E4–E7): an object
 * {@code {"name":"svc:<label>","addrs":[v4,v6],"comment","annotations","ports","tags"}} with every field omitted when
 * empty and the annotations kept exactly as written. A create may omit {@code addrs} (the tailnet allocates an IPv4
 * and an IPv6 address) or ask for an IPv4 address at index 0; an update must send the addresses back, as the real API
 * requires of a service whose addresses were allocated.
 */
final class FakeServices {
  static final Pattern NAME = Pattern.compile("svc:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private final ObjectMapper json;
  private final Map<String, ObjectNode> services = new LinkedHashMap<>();
  private int next = 1;

  FakeServices(ObjectMapper json) {
    this.json = json;
  }

  /** Call with the fake's lock held. */
  Optional<ObjectNode> get(String name) {
    ObjectNode s = services.get(name);
    return s == null ? Optional.empty() : Optional.of(s.deepCopy());
  }

  List<ObjectNode> list() {
    List<ObjectNode> out = new ArrayList<>();
    services.values().forEach(s -> out.add(s.deepCopy()));
    return out;
  }

  /**
   * Creates or replaces {@code name} with {@code body}; returns the stored object.
   *
   * @throws IllegalArgumentException with the API's message when the request is refused (400)
   */
  ObjectNode put(String name, JsonNode body) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid service name \"" + name + "\": must be svc: followed by a DNS "
          + "label");
    }
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("invalid JSON request body");
    }
    if (body.has("name") && !name.equals(body.get("name").asText())) {
      throw new IllegalArgumentException("service name in the body (" + body.get("name").asText()
          + ") does not match the path (" + name + ")");
    }
    ObjectNode existing = services.get(name);
    List<String> addrs = new ArrayList<>();
    body.path("addrs").forEach(a -> addrs.add(a.asText()));
    if (existing != null) {
      List<String> had = new ArrayList<>();
      existing.path("addrs").forEach(a -> had.add(a.asText()));
      if (addrs.isEmpty()) {
        throw new IllegalArgumentException("service " + name + " has allocated addresses " + had + "; an update must "
            + "include them in addrs");
      }
      if (!addrs.equals(had)) {
        throw new IllegalArgumentException("the addresses of service " + name + " cannot be changed");
      }
    } else {
      int n = next++;
      String v4 = addrs.isEmpty() || addrs.get(0).contains(":") ? "100.100." + (n / 250) + "." + (n % 250 + 1)
          : addrs.get(0);
      addrs.clear();
      addrs.add(v4);
      addrs.add("fd7a:115c:a1e0::1:" + Integer.toHexString(n));
    }
    ObjectNode stored = json.createObjectNode();
    stored.put("name", name);
    ArrayNode a = stored.putArray("addrs");
    addrs.forEach(a::add);
    for (String f : List.of("comment", "annotations", "ports", "tags")) {
      JsonNode v = body.get(f);
      if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty()) && !(v.isTextual() && v.asText()
          .isEmpty())) {
        stored.set(f, v.deepCopy());
      }
    }
    services.put(name, stored);
    return stored.deepCopy();
  }

  boolean delete(String name) {
    return services.remove(name) != null;
  }
}
