package io.tailops.controlplane;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON reading shared by the control-plane clients. Tree-based and lenient: unknown fields are ignored and fields of
 * an unexpected type are treated as absent, so newer API versions do not break the operator. Nothing here ever echoes
 * its input (response bodies may hold secrets).
 */
public final class JsonSupport {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * Parses HuJSON (the policy file format: JSON plus {@code //} and {@code /* *}{@code /} comments and trailing commas)
   * by letting Jackson skip comments and accept trailing commas, which is equivalent to stripping them first.
   */
  public static final ObjectMapper HUJSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS, JsonReadFeature.ALLOW_TRAILING_COMMA)
      .build();

  private static final String ZERO_TIME_PREFIX = "0001-01-01";

  private JsonSupport() {
  }

  /** Reads a JSON object, or null when the bytes are not a JSON object. Never throws, never echoes the input. */
  public static JsonNode readObject(byte[] body, ObjectMapper mapper) {
    if (body == null || body.length == 0) {
      return null;
    }
    try {
      JsonNode n = mapper.readTree(body);
      return n != null && n.isObject() ? n : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  public static JsonNode readObject(String text, ObjectMapper mapper) {
    return text == null ? null : readObject(text.getBytes(StandardCharsets.UTF_8), mapper);
  }

  /**
   * The parts of a policy file the operator checks: {@code tagOwners}, {@code nodeAttrs} and the app connectors they
   * define.
   */
  public static TailnetPolicy toPolicy(JsonNode p) {
    Map<String, List<String>> tagOwners = new LinkedHashMap<>();
    JsonNode to = p.get("tagOwners");
    if (to != null && to.isObject()) {
      to.properties().forEach(e -> tagOwners.put(e.getKey(), strings(e.getValue())));
    }
    List<TailnetPolicy.NodeAttr> nodeAttrs = new ArrayList<>();
    List<TailnetPolicy.AppConnector> appConnectors = new ArrayList<>();
    JsonNode na = p.get("nodeAttrs");
    if (na != null && na.isArray()) {
      for (JsonNode entry : na) {
        if (entry.isObject()) {
          nodeAttrs.add(new TailnetPolicy.NodeAttr(strings(entry.get("target")), strings(entry.get("attr"))));
          JsonNode apps = entry.path("app").get(TailnetPolicy.APP_CONNECTORS_CAP);
          if (apps != null && apps.isArray()) {
            for (JsonNode a : apps) {
              if (a.isObject()) {
                appConnectors.add(new TailnetPolicy.AppConnector(text(a, "name"), strings(a.get("connectors")),
                    strings(a.get("domains"))));
              }
            }
          }
        }
      }
    }
    return new TailnetPolicy(tagOwners, nodeAttrs, appConnectors);
  }

  /**
   * An RFC 3339 time, or null when absent, empty, unparseable or the Go zero time {@code 0001-01-01T00:00:00Z} (which
   * the APIs use for "unknown" and "never").
   */
  public static Instant time(JsonNode n) {
    if (n == null || n.isNull() || !n.isTextual()) {
      return null;
    }
    String s = n.asText().trim();
    if (s.isEmpty() || s.startsWith(ZERO_TIME_PREFIX)) {
      return null;
    }
    try {
      return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  public static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull() || v.isContainerNode()) {
      return null;
    }
    return v.asText();
  }

  public static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n != null && n.isArray()) {
      for (JsonNode e : n) {
        if (e.isValueNode() && !e.isNull()) {
          out.add(e.asText());
        }
      }
    }
    return out;
  }
}
