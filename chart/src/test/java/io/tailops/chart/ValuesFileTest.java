package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * values.yaml: every key of the official chart (1.94.2, behaviour spec §8.1) with the same default, our own keys with
 * their documented defaults, and a comment on every key.
 */
class ValuesFileTest {
  static List<String> lines;
  static JsonNode values;

  /** Upstream keys and defaults (§8.1), except the two image repositories and the proxy tag (see below). */
  static final Map<String, Object> UPSTREAM = new LinkedHashMap<>();
  /** Keys only this chart has, with their defaults. */
  static final Map<String, Object> OURS = new LinkedHashMap<>();

  static {
    UPSTREAM.put("oauth.clientId", "");
    UPSTREAM.put("oauth.clientSecret", "");
    UPSTREAM.put("oauth.audience", "");
    UPSTREAM.put("loginServer", "");
    UPSTREAM.put("oauthSecretVolume", Map.of());
    UPSTREAM.put("installCRDs", true);
    UPSTREAM.put("operatorConfig.defaultTags", List.of("tag:k8s-operator"));
    UPSTREAM.put("operatorConfig.image.repo", "");
    UPSTREAM.put("operatorConfig.image.tag", "");
    UPSTREAM.put("operatorConfig.image.digest", "");
    UPSTREAM.put("operatorConfig.image.pullPolicy", "Always");
    UPSTREAM.put("operatorConfig.logging", "info");
    UPSTREAM.put("operatorConfig.hostname", "tailscale-operator");
    UPSTREAM.put("operatorConfig.nodeSelector", Map.of("kubernetes.io/os", "linux"));
    UPSTREAM.put("operatorConfig.podAnnotations", Map.of());
    UPSTREAM.put("operatorConfig.podLabels", Map.of());
    UPSTREAM.put("operatorConfig.serviceAccountAnnotations", Map.of());
    UPSTREAM.put("operatorConfig.tolerations", List.of());
    UPSTREAM.put("operatorConfig.affinity", Map.of());
    UPSTREAM.put("operatorConfig.podSecurityContext", Map.of());
    UPSTREAM.put("operatorConfig.securityContext", Map.of());
    UPSTREAM.put("operatorConfig.extraEnv", List.of());
    UPSTREAM.put("ingressClass.name", "tailscale");
    UPSTREAM.put("ingressClass.enabled", true);
    UPSTREAM.put("proxyConfig.image.repo", "");
    UPSTREAM.put("proxyConfig.image.digest", "");
    UPSTREAM.put("proxyConfig.defaultTags", "tag:k8s");
    UPSTREAM.put("proxyConfig.firewallMode", "auto");
    UPSTREAM.put("proxyConfig.defaultProxyClass", "");
    UPSTREAM.put("apiServerProxyConfig.allowImpersonation", "false");
    UPSTREAM.put("apiServerProxyConfig.mode", "false");
    UPSTREAM.put("imagePullSecrets", List.of());

    OURS.put("operatorConfig.image.repository", "ghcr.io/tailops/tailscale-operator");
    // Upstream's default is {}: ours bounds the JVM's memory (docs/benchmarks, "Memory bound").
    OURS.put("operatorConfig.resources", Map.of("requests", Map.of("memory", "192Mi"), "limits",
        Map.of("memory", "512Mi")));
    OURS.put("proxyConfig.image.repository", "tailscale/tailscale");
    OURS.put("proxyConfig.image.tag", "v1.94.2");
    OURS.put("oauth.existingSecret", "");
    OURS.put("oauth.clientIdKey", "client_id");
    OURS.put("oauth.clientSecretKey", "client_secret");
    OURS.put("operatorConfig.replicas", 1);
    OURS.put("operatorConfig.httpPort", 8080);
    OURS.put("operatorConfig.orphanDevices", "report");
    OURS.put("operatorConfig.orphanGracePeriod", "24h");
    OURS.put("operatorConfig.device.enabled", true);
    OURS.put("operatorConfig.device.resources", Map.of("requests", Map.of("cpu", "10m", "memory", "48Mi")));
    OURS.put("operatorConfig.device.securityContext", Map.of());
    OURS.put("operatorConfig.device.statusPage", "grant");
    OURS.put("operatorConfig.authKeyExpiry", "30m");
    OURS.put("loginServerAllowHttp", false);
    OURS.put("networkPolicy.enabled", false);
    OURS.put("networkPolicy.metricsFrom", List.of());
    OURS.put("funnel.allowedNamespaces", List.of());
    OURS.put("controlPlane", "tailscale");
    OURS.put("headscale.apiKeySecret.name", "");
    OURS.put("headscale.apiKeySecret.key", "api-key");
    OURS.put("headscale.approveRoutes", false);
    OURS.put("metrics.serviceMonitor.enabled", false);
    OURS.put("metrics.serviceMonitor.labels", Map.of());
  }

  @BeforeAll
  static void read() throws Exception {
    String text = Files.readString(Chart.dir().resolve("values.yaml"));
    lines = text.lines().toList();
    values = Chart.yaml(text);
  }

  @Test
  void everyUpstreamKeyHasTheUpstreamDefault() {
    UPSTREAM.forEach((key, expected) ->
        assertThat(node(key)).as("values.yaml %s (official chart default)", key).isEqualTo(Chart.YAML.valueToTree(expected)));
  }

  @Test
  void ourKeysHaveTheirDocumentedDefaults() {
    OURS.forEach((key, expected) ->
        assertThat(node(key)).as("values.yaml %s", key).isEqualTo(Chart.YAML.valueToTree(expected)));
  }

  @Test
  void everyKeyIsDocumentedWithAComment() {
    List<String> undocumented = new ArrayList<>();
    List<String> all = new ArrayList<>(UPSTREAM.keySet());
    all.addAll(OURS.keySet());
    for (String key : all) {
      int line = lineOf(key);
      if (!commentedAbove(line) && !lines.get(line).contains(" # ")) {
        undocumented.add(key);
      }
    }
    assertThat(undocumented).as("keys without a comment right above them in values.yaml").isEmpty();
  }

  @Test
  void everyLeafInValuesYamlIsKnownToThisTest() {
    List<String> leaves = new ArrayList<>();
    collectLeaves("", values, leaves);
    List<String> known = new ArrayList<>(UPSTREAM.keySet());
    known.addAll(OURS.keySet());
    // Leaves under a map-valued key (nodeSelector, device.resources) belong to that key.
    assertThat(leaves).allSatisfy(leaf -> assertThat(known)
        .as("values.yaml has %s; add it (with its default) to this test", leaf)
        .anyMatch(k -> leaf.equals(k) || leaf.startsWith(k + ".")));
  }

  private static void collectLeaves(String prefix, JsonNode n, List<String> out) {
    if (n.isObject() && !n.isEmpty()) {
      n.properties().forEach(e -> collectLeaves(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(),
          e.getValue(), out));
    } else {
      out.add(prefix);
    }
  }

  private static JsonNode node(String dotted) {
    JsonNode n = values;
    for (String part : dotted.split("\\.")) {
      n = n.path(part);
    }
    assertThat(n.isMissingNode()).as("values.yaml has no key %s", dotted).isFalse();
    return n;
  }

  /** Index of the line that defines a dotted key, found by walking indentation. */
  private static int lineOf(String dotted) {
    String[] parts = dotted.split("\\.");
    int from = 0;
    int indent = 0;
    int found = -1;
    for (String part : parts) {
      found = -1;
      for (int i = from; i < lines.size(); i++) {
        String l = lines.get(i);
        if (l.isBlank() || l.stripLeading().startsWith("#")) {
          continue;
        }
        int ind = l.length() - l.stripLeading().length();
        if (ind < indent && i > from) {
          break;
        }
        if (ind == indent && l.stripLeading().startsWith(part + ":")) {
          found = i;
          break;
        }
      }
      assertThat(found).as("line of %s in values.yaml", dotted).isNotNegative();
      from = found + 1;
      indent += 2;
    }
    return found;
  }

  private static boolean commentedAbove(int line) {
    for (int i = line - 1; i >= 0; i--) {
      String l = lines.get(i).strip();
      if (l.isEmpty()) {
        return false;
      }
      return l.startsWith("#");
    }
    return false;
  }
}
