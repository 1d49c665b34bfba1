package io.tailops.it.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The golden tooling's own logic, without a server: placeholders, YAML round trips, the difference list, the diff. */
class GoldenToolsTest {

  @Test
  void placeholdersReplaceWholeValuesOnly() {
    Map<String, String> r = new TreeMap<>(java.util.Comparator.comparingInt(String::length).reversed()
        .thenComparing(java.util.Comparator.naturalOrder()));
    r.put("10.96.0.1", "<clusterIP:default/kubernetes>");
    r.put("ts-web-x7k2p", "ts-web-<suffix>");
    assertThat(Normaliser.replace(r, "10.96.0.1")).isEqualTo("<clusterIP:default/kubernetes>");
    assertThat(Normaliser.replace(r, "http://10.96.0.12:80/")).isEqualTo("http://10.96.0.12:80/");
    assertThat(Normaliser.replace(r, "110.96.0.1")).isEqualTo("110.96.0.1");
    assertThat(Normaliser.replace(r, "/etc/tsconfig/ts-web-x7k2p-0")).isEqualTo("/etc/tsconfig/ts-web-<suffix>-0");
    assertThat(Normaliser.replace(r, "{\"Proxy\":\"http://10.96.0.1:80/\"}"))
        .isEqualTo("{\"Proxy\":\"http://<clusterIP:default/kubernetes>:80/\"}");
  }

  @Test
  void advertisedServicesAreComparedAsASet() {
    assertThat(Normaliser.sortAdvertisedServices("{\"Hostname\":\"pg-0\",\"AdvertiseServices\":[\"svc:web\","
        + "\"svc:db\"]}")).isEqualTo("{\"Hostname\":\"pg-0\",\"AdvertiseServices\":[\"svc:db\",\"svc:web\"]}");
    assertThat(Normaliser.sortAdvertisedServices("{\"Hostname\":\"pg-0\"}")).isEqualTo("{\"Hostname\":\"pg-0\"}");
  }

  @Test
  void proxyWrittenSecretKeysAreNotTheOperators() {
    assertThat(Normaliser.writtenByProxy("device_id")).isTrue();
    assertThat(Normaliser.writtenByProxy("_machinekey")).isTrue();
    assertThat(Normaliser.writtenByProxy("profile-abcd")).isTrue();
    assertThat(Normaliser.writtenByProxy("web.tailnet-abc.ts.net.crt")).isTrue();
    assertThat(Normaliser.writtenByProxy("cap-107.hujson")).isFalse();
    assertThat(Normaliser.writtenByProxy("serve-config")).isFalse();
  }

  @Test
  void yamlRoundTripKeepsEveryValueAsItWas() {
    String text = GoldenYaml.render(List.of(doc("""
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "x", "annotations": {"a": "true", "b": "8080",
         "c": "", "d": "null", "e": "yes", "f": "1m", "g": "<uid:Service/a/b>", "h": "line 1\\nline 2\\n"}},
         "stringData": {"cap-107.hujson": "{\\"Version\\":\\"alpha0\\",\\"Locked\\":false}"},
         "spec": {"replicas": 1, "on": true, "list": [{"name": "B"}, {"name": "A"}]}}
        """)));
    assertThat(GoldenYaml.render(GoldenYaml.parse(text))).isEqualTo(text);
    ObjectNode back = GoldenYaml.parse(text).get(0);
    assertThat(back.at("/metadata/annotations/a").isTextual()).isTrue();
    assertThat(back.at("/metadata/annotations/b").isTextual()).isTrue();
    assertThat(back.at("/spec/replicas").isInt()).isTrue();
    assertThat(back.at("/spec/list/0/name").asText()).isEqualTo("B");
    assertThat(text).startsWith("apiVersion: v1\nkind: Secret\nmetadata:\n");
  }

  @Test
  void theCommittedGoldenFilesAreWhatTheRendererWrites() throws IOException {
    Path dir = GoldenPaths.expected(GoldenPaths.repo());
    TreeMap<String, List<ObjectNode>> files = GoldenFiles.read(dir);
    assertThat(files).isNotEmpty();
    for (Map.Entry<String, List<ObjectNode>> f : files.entrySet()) {
      String onDisk = Files.readString(dir.resolve(f.getKey() + ".yaml"));
      assertThat(onDisk).as(f.getKey()).isEqualTo(GoldenFiles.header(f.getKey(), headerVersion(onDisk))
          + GoldenYaml.render(f.getValue()));
    }
  }

  private static String headerVersion(String text) {
    int at = text.indexOf("k8s-operator v");
    return text.substring(at + "k8s-operator v".length(), text.indexOf(')', at));
  }

  @Test
  void differencesRemoveReplaceAndMustStillHold() {
    KnownDifferences list = KnownDifferences.parse("""
        differences:
          - id: our-annotation
            status: deliberate
            reason: ours only
            kind: StatefulSet
            path: /metadata/annotations/tailscale.com~1operator-spec-hash
            only: ours
          - id: message
            status: known, to fix
            reason: differs
            file: service/**
            path: /status/conditions/[type=Ready]/message
        """);
    TreeMap<String, List<ObjectNode>> official = files("""
        {"kind": "Service", "metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "message": "x"}]}}
        """, """
        {"kind": "StatefulSet", "metadata": {"name": "ts-a", "annotations": {"k": "v"}}}
        """);
    TreeMap<String, List<ObjectNode>> ours = files("""
        {"kind": "Service", "metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "message": "y"}]}}
        """, """
        {"kind": "StatefulSet", "metadata": {"name": "ts-a",
         "annotations": {"k": "v", "tailscale.com/operator-spec-hash": "123"}}}
        """);
    assertThat(GoldenFiles.compare(official, ours, list)).isEmpty();
    assertThat(GoldenFiles.compare(official, ours, new KnownDifferences(List.of()))).contains(
        "-    message: x", "+    message: \"y\"", "+    tailscale.com/operator-spec-hash: \"123\"");

    // fixed on our side: the entries no longer hold, and the test says so
    assertThat(GoldenFiles.compare(official, official, list))
        .contains("our-annotation: nothing of ours at StatefulSet /metadata/annotations/"
            + "tailscale.com~1operator-spec-hash (fixed? then remove the entry)")
        .contains("message: service/** /status/conditions/[type=Ready]/message no longer differs");
  }

  @Test
  void aMapLeftEmptyByARemovalGoesToo() {
    KnownDifferences list = KnownDifferences.parse("""
        differences:
          - id: two-annotations
            status: deliberate
            reason: ours only
            kind: StatefulSet
            paths: [/metadata/annotations/a, /metadata/annotations/b]
            only: ours
        """);
    TreeMap<String, List<ObjectNode>> official = files("""
        {"kind": "Service", "metadata": {"name": "a"}}
        """, """
        {"kind": "StatefulSet", "metadata": {"name": "ts-a"}}
        """);
    TreeMap<String, List<ObjectNode>> ours = files("""
        {"kind": "Service", "metadata": {"name": "a"}}
        """, """
        {"kind": "StatefulSet", "metadata": {"name": "ts-a", "annotations": {"a": "1", "b": "2"}}}
        """);
    assertThat(GoldenFiles.compare(official, ours, list)).isEmpty();
    // a third annotation of ours is not covered by the list
    ours.get("service/ns/a").get(1).with("metadata").with("annotations").put("c", "3");
    assertThat(GoldenFiles.compare(official, ours, list)).contains("+  annotations:", "+    c: \"3\"");
  }

  @Test
  void differencesNeedAReasonAndAKnownStatus() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> KnownDifferences.parse("""
        differences: [{id: x, status: deliberate, path: /a}]
        """)).hasMessageContaining("needs an id and a reason");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> KnownDifferences.parse("""
        differences: [{id: x, status: later, reason: r, path: /a}]
        """)).hasMessageContaining("status must be one of");
  }

  @Test
  void unifiedDiffShowsChangedLinesWithContext() {
    String a = "a\nb\nc\nd\ne\nf\ng\nh\n";
    String b = "a\nb\nc\nD\ne\nf\ng\nh\n";
    assertThat(LineDiff.unified(a, b, "x", "y")).isEqualTo("""
        --- x
        +++ y
        @@ -1,7 +1,7 @@
         a
         b
         c
        -d
        +D
         e
         f
         g
        """);
    assertThat(LineDiff.unified(a, a, "x", "y")).isEmpty();
  }

  private static ObjectNode doc(String json) {
    try {
      return (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A service file and a StatefulSet in it, as the normaliser lays them out. */
  private static TreeMap<String, List<ObjectNode>> files(String parent, String child) {
    TreeMap<String, List<ObjectNode>> out = new TreeMap<>();
    out.put("service/ns/a", new ArrayList<>(List.of(doc(parent), doc(child))));
    return out;
  }
}
