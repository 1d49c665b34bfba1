package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.chart.OfficialCrdDifferences.Difference;
import io.tailops.chart.OfficialCrdDifferences.Kind;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each CRD the api module generates from the Java model equals the official operator's v1.94.2 CRD field by field:
 * names, short names, scope, versions, subresources, printer columns, and the whole schema (types, formats,
 * patterns, lengths, bounds, enums, nested required, defaults, list and map types, CEL validations). What may differ
 * is listed, with the reason, in {@link OfficialCrdDifferences}.
 */
class OfficialCrdParityTest {
  static Map<String, JsonNode> ours;
  static Map<String, JsonNode> official;

  @BeforeAll
  static void load() throws Exception {
    ours = ChartCrdSyncTest.generatedCrds();
    official = OfficialChart.crds();
  }

  @Test
  void weGenerateACrdForEveryOfficialKindAndNoOther() {
    assertThat(official).as("CRDs of the official chart fixture").hasSize(5);
    assertThat(ours.keySet()).containsExactlyInAnyOrderElementsOf(official.keySet());
  }

  @Test
  void theCrdsDifferOnlyAsListedInOfficialCrdDifferences() {
    List<Difference> found = new ArrayList<>();
    for (String name : official.keySet()) {
      compare(name, "", normalized(ours.get(name)), normalized(official.get(name)), found);
    }
    TreeSet<String> actual = found.stream().map(Difference::key).collect(Collectors.toCollection(TreeSet::new));
    TreeSet<String> listed = OfficialCrdDifferences.ALL.stream().map(Difference::key)
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(actual).as("differences between our CRDs and the official ones (fix the model in api/, or list the "
        + "difference with its reason in OfficialCrdDifferences):\n" + found.stream()
            .map(d -> "  " + d.key() + " " + d.reason()).collect(Collectors.joining("\n")))
        .isEqualTo(listed);
  }

  @Test
  void theComparisonFindsADifferenceDeepInAKubernetesType() {
    // Control: a changed nested detail of a Kubernetes type (a list type inside Affinity) is caught.
    JsonNode pc = normalized(official.get("proxyclasses.tailscale.com"));
    ObjectNode changed = pc.deepCopy();
    ObjectNode terms = (ObjectNode) changed.at(OfficialCrdDifferences.SCHEMA + "/properties/spec/properties/statefulSet"
        + "/properties/pod/properties/affinity/properties/nodeAffinity/properties/"
        + "requiredDuringSchedulingIgnoredDuringExecution/properties/nodeSelectorTerms");
    assertThat(terms.path("x-kubernetes-list-type").asText()).isEqualTo("atomic");
    terms.remove("x-kubernetes-list-type");
    List<Difference> found = new ArrayList<>();
    compare("proxyclasses.tailscale.com", "", changed, pc, found);
    assertThat(found).extracting(Difference::kind, Difference::path).containsExactly(
        org.assertj.core.groups.Tuple.tuple(Kind.ONLY_OFFICIAL, OfficialCrdDifferences.SCHEMA + "/properties/spec"
            + "/properties/statefulSet/properties/pod/properties/affinity/properties/nodeAffinity/properties/"
            + "requiredDuringSchedulingIgnoredDuringExecution/properties/nodeSelectorTerms/x-kubernetes-list-type"));
  }

  @Test
  void everyKindHasTheOfficialShortNamesScopeStatusSubresourceAndPrinterColumns() {
    // Explicit, although the comparison above covers it: what kubectl shows.
    assertThat(ours.get("connectors.tailscale.com").at("/spec/names/shortNames/0").asText()).isEqualTo("cn");
    assertThat(ours.get("dnsconfigs.tailscale.com").at("/spec/names/shortNames/0").asText()).isEqualTo("dc");
    assertThat(ours.get("proxygroups.tailscale.com").at("/spec/names/shortNames/0").asText()).isEqualTo("pg");
    assertThat(ours.get("recorders.tailscale.com").at("/spec/names/shortNames/0").asText()).isEqualTo("rec");
    for (Map.Entry<String, JsonNode> e : ours.entrySet()) {
      JsonNode crd = e.getValue();
      assertThat(crd.at("/spec/scope").asText()).as(e.getKey()).isEqualTo("Cluster");
      assertThat(crd.at("/spec/versions/0/subresources/status").isObject()).as(e.getKey()).isTrue();
      List<String> columns = new ArrayList<>();
      crd.at("/spec/versions/0/additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText()));
      List<String> officialColumns = new ArrayList<>();
      official.get(e.getKey()).at("/spec/versions/0/additionalPrinterColumns")
          .forEach(c -> officialColumns.add(c.path("name").asText()));
      assertThat(columns).as(e.getKey()).isEqualTo(officialColumns);
    }
  }

  /** The CRD without what the comparison ignores (see {@link OfficialCrdDifferences}). */
  static JsonNode normalized(JsonNode crd) {
    ObjectNode copy = crd.deepCopy();
    ((ObjectNode) copy.path("metadata")).remove("annotations");
    strip(copy);
    return copy;
  }

  private static void strip(JsonNode node) {
    if (node instanceof ObjectNode o) {
      // "description" as a key of "properties" is a field name, not a description text.
      JsonNode props = o.get("properties");
      o.remove("description");
      for (String setLike : List.of("enum", "required")) {
        JsonNode list = o.get(setLike);
        if (list != null && list.isArray()) {
          List<JsonNode> items = new ArrayList<>();
          list.forEach(items::add);
          items.sort((a, b) -> a.toString().compareTo(b.toString()));
          o.putArray(setLike).addAll(items);
        }
      }
      if (props instanceof ObjectNode p) {
        p.forEach(OfficialCrdParityTest::strip);
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!"properties".equals(e.getKey())) {
          strip(e.getValue());
        }
      }
    } else if (node.isArray()) {
      node.forEach(OfficialCrdParityTest::strip);
    }
  }

  /** Appends every difference between {@code a} (ours) and {@code b} (official) under {@code path}. */
  static void compare(String crd, String path, JsonNode a, JsonNode b, List<Difference> out) {
    if (a.isObject() && b.isObject()) {
      TreeSet<String> keys = new TreeSet<>();
      a.fieldNames().forEachRemaining(keys::add);
      b.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        String p = path + "/" + k;
        if (!b.has(k)) {
          out.add(new Difference(crd, p, Kind.ONLY_OURS, "ours: " + abbreviate(a.get(k))));
        } else if (!a.has(k)) {
          out.add(new Difference(crd, p, Kind.ONLY_OFFICIAL, "official: " + abbreviate(b.get(k))));
        } else {
          compare(crd, p, a.get(k), b.get(k), out);
        }
      }
    } else if (a.isArray() && b.isArray() && a.size() == b.size()) {
      for (int i = 0; i < a.size(); i++) {
        compare(crd, path + "/" + i, a.get(i), b.get(i), out);
      }
    } else if (!sameValue(a, b)) {
      out.add(new Difference(crd, path, Kind.VALUE, "ours " + abbreviate(a) + ", official " + abbreviate(b)));
    }
  }

  /** Equal JSON values; numbers by value ({@code 0} and {@code 0.0} are the same bound). */
  private static boolean sameValue(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  private static String abbreviate(JsonNode n) {
    String s = n.toString();
    return s.length() > 160 ? s.substring(0, 160) + "…" : s;
  }
}
