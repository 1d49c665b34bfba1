package io.tailops.operator.dns;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The records the in-cluster ts.net nameserver serves: key {@value #KEY} of the ConfigMap {@value #CONFIG_MAP} in the
 * operator namespace, {@code {"version":"v1alpha1","ip4":{name:[addresses]},"ip6":{...}}} (tailscale.com/k8s-operator
 * {@code Records}). Written byte for byte as the official operator writes it (Go's {@code encoding/json}: names in
 * sorted order, {@code ip6} left out when empty), so that switching operators rewrites nothing; addresses are kept
 * sorted (upstream's order is random), so that an unchanged set is an unchanged file.
 *
 * @param ip4 name → IPv4 addresses; null only when a file said {@code "ip4":null}
 * @param ip6 name → IPv6 addresses
 */
public record DnsRecords(String version, Map<String, List<String>> ip4, Map<String, List<String>> ip6) {
  public static final String VERSION = "v1alpha1";
  public static final String CONFIG_MAP = "dnsrecords";
  public static final String KEY = "records.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public DnsRecords {
    ip4 = ip4 == null ? null : Collections.unmodifiableMap(new TreeMap<>(ip4));
    ip6 = ip6 == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(ip6));
  }

  /** What upstream starts from when the ConfigMap holds no records yet. */
  public static DnsRecords empty() {
    return new DnsRecords(VERSION, Map.of(), Map.of());
  }

  /**
   * Reads the ConfigMap's value; null or empty means {@link #empty()}. Fields other than the three are dropped, as
   * upstream drops them.
   *
   * @throws IOException if the value is not such a JSON object
   */
  public static DnsRecords parse(String json) throws IOException {
    if (json == null || json.isEmpty()) {
      return empty();
    }
    JsonNode root = JSON.readTree(json);
    if (root == null || !root.isObject()) {
      throw new IOException("records.json is not a JSON object");
    }
    String version = root.path("version").isTextual() ? root.get("version").asText() : "";
    JsonNode ip4 = root.get("ip4");
    JsonNode ip6 = root.get("ip6");
    var type = new TypeReference<Map<String, List<String>>>() { };
    Map<String, List<String>> v4 = ip4 == null ? Map.of() : ip4.isNull() ? null : JSON.convertValue(ip4, type);
    Map<String, List<String>> v6 = ip6 == null || ip6.isNull() ? Map.of() : JSON.convertValue(ip6, type);
    return new DnsRecords(version, v4, v6);
  }

  /** The addresses served for {@code name} (either family), empty when none. */
  public List<String> addresses(String name) {
    List<String> out = new ArrayList<>();
    if (ip4 != null && ip4.get(name) != null) {
      out.addAll(ip4.get(name));
    }
    if (ip6.get(name) != null) {
      out.addAll(ip6.get(name));
    }
    return out;
  }

  /**
   * These records with {@code name} answered by exactly these addresses: a family without addresses loses its entry
   * (upstream keeps a stale one there), other names are kept whoever wrote them.
   */
  public DnsRecords with(String name, Collection<String> ipv4, Collection<String> ipv6) {
    Map<String, List<String>> v4 = ip4 == null ? new TreeMap<>() : new TreeMap<>(ip4);
    Map<String, List<String>> v6 = new TreeMap<>(ip6);
    put(v4, name, ipv4);
    put(v6, name, ipv6);
    return new DnsRecords(version, v4, v6);
  }

  /** These records without {@code name} (both families). */
  public DnsRecords without(String name) {
    Map<String, List<String>> v4 = ip4 == null ? null : new TreeMap<>(ip4);
    Map<String, List<String>> v6 = new TreeMap<>(ip6);
    if (v4 != null) {
      v4.remove(name);
    }
    v6.remove(name);
    return new DnsRecords(version, v4, v6);
  }

  private static void put(Map<String, List<String>> family, String name, Collection<String> addresses) {
    if (addresses == null || addresses.isEmpty()) {
      family.remove(name);
    } else {
      family.put(name, List.copyOf(new TreeSet<>(addresses)));
    }
  }

  /** The JSON text, as Go's {@code json.Marshal} writes it for these values. */
  public String toJson() {
    StringBuilder b = new StringBuilder("{\"version\":").append(goString(version)).append(",\"ip4\":");
    family(b, ip4);
    if (!ip6.isEmpty()) {
      b.append(",\"ip6\":");
      family(b, ip6);
    }
    return b.append('}').toString();
  }

  private static void family(StringBuilder b, Map<String, List<String>> family) {
    if (family == null) {
      b.append("null");
      return;
    }
    b.append('{');
    boolean first = true;
    for (var e : family.entrySet()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append(goString(e.getKey())).append(':');
      if (e.getValue() == null) {
        b.append("null");
        continue;
      }
      b.append('[');
      for (int i = 0; i < e.getValue().size(); i++) {
        b.append(i == 0 ? "" : ",").append(goString(e.getValue().get(i)));
      }
      b.append(']');
    }
    b.append('}');
  }

  /** A JSON string as Go's encoder writes it (HTML-safe: {@code <>&} escaped, and U+2028/U+2029). */
  static String goString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case '<', '>', '&', '\u2028', '\u2029' -> b.append(String.format("\\u%04x", (int) c));
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
