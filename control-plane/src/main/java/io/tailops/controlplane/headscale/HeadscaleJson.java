package io.tailops.controlplane.headscale;

import static io.tailops.controlplane.JsonSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * JSON of headscale's {@code /api/v1} (grpc-gateway: proto3 camelCase names, 64-bit ids as strings, RFC 3339 times,
 * every field present). Tree-based and lenient: unknown fields are ignored, fields of an unexpected type are absent.
 */
final class HeadscaleJson {
  private HeadscaleJson() {
  }

  /**
   * An error body: grpc-gateway's {@code {"code":5,"message":"node not found","details":[]}}, an RFC 7807 problem
   * ({@code title}/{@code detail}, as headscale's unreleased main answers), or a short plain-text body such as
   * {@code Unauthorized} (the API-key check) or {@code 404 page not found} (no such route).
   *
   * @param grpcCode the gRPC code, if the body had one
   * @param message the message (not redacted yet), or null
   * @param json whether the body was a JSON object (false: the route itself is missing or a proxy answered)
   */
  record ErrorBody(Integer grpcCode, String message, boolean json) {
  }

  static ErrorBody errorBody(byte[] body) {
    JsonNode n = readObject(body, MAPPER);
    if (n != null) {
      JsonNode code = n.get("code");
      Integer grpc = code != null && code.isInt() ? code.intValue() : null;
      String msg = text(n, "message");
      if (msg == null || msg.isBlank()) {
        msg = text(n, "detail");
      }
      if (msg == null || msg.isBlank()) {
        msg = text(n, "title");
      }
      return new ErrorBody(grpc, msg == null || msg.isBlank() ? null : msg, true);
    }
    if (body == null || body.length == 0) {
      return new ErrorBody(null, null, false);
    }
    String text = new String(body, 0, Math.min(body.length, 512), StandardCharsets.UTF_8).strip();
    int nl = text.indexOf('\n');
    if (nl >= 0) {
      text = text.substring(0, nl).strip();
    }
    // HTML error pages from a proxy in front carry nothing useful
    return new ErrorBody(null, text.isEmpty() || text.startsWith("<") ? null : text, false);
  }

  /**
   * A node as a {@link Device}: {@code nodeId} = {@code legacyId} = the decimal id (the StableID clients see), name =
   * {@code <givenName>.<baseDomain>} (just the given name while the base domain is unknown), hostname = the raw
   * hostname the client reported.
   */
  static Device toDevice(JsonNode n, String baseDomain) {
    String id = text(n, "id");
    String given = text(n, "givenName");
    if (given == null || given.isEmpty()) {
      given = text(n, "name");
    }
    String name = given == null ? null : baseDomain == null || baseDomain.isEmpty() ? given : given + "." + baseDomain;
    // v0.28+: "tags"; up to v0.27: forcedTags/validTags (invalidTags never apply)
    Set<String> tags = new LinkedHashSet<>(strings(n.get("tags")));
    tags.addAll(strings(n.get("forcedTags")));
    tags.addAll(strings(n.get("validTags")));
    JsonNode online = n.get("online");
    return new Device(id, id, name, text(n, "name"), strings(n.get("ipAddresses")), new ArrayList<>(tags),
        time(n.get("lastSeen")), online != null && online.isBoolean() ? online.booleanValue() : null,
        time(n.get("createdAt")));
  }

  /** A node's routes: {@code availableRoutes} (what it announces) and {@code approvedRoutes}. */
  static DeviceRoutes toRoutes(JsonNode n) {
    return new DeviceRoutes(strings(n.get("availableRoutes")), strings(n.get("approvedRoutes")));
  }
}
