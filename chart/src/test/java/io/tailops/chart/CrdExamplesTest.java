package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable.Validation;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.api.v1alpha1.TailscaleResources;
import io.tailops.testkit.kube.KubeApiServerExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Example objects of every kind against the CRDs on a real API server: the official examples and ours
 * ({@code crd-examples/valid}) are accepted unchanged, under strict field validation, by our CRDs (as the chart
 * installs them) and by the official ones; each of {@code crd-examples/invalid} is rejected by both with the same
 * message. The official CRDs are installed side by side under the group {@value #OFFICIAL_GROUP}, so both sets are
 * checked on one server. Valid examples also read back into the Java model without losing a field.
 */
@Tag("apiserver")
class CrdExamplesTest {
  static final String OFFICIAL_GROUP = "official.tailscale.com";
  static final String FIELD_MANAGER = "crd-examples";

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension();

  /** Which CRDs an example is checked against. */
  enum Crds {
    OURS, OFFICIAL
  }

  static KubernetesClient client;

  @BeforeAll
  static void installBothCrdSets() {
    client = KUBE.server().client();
    StringBuilder ours = new StringBuilder();
    for (JsonNode n : Chart.render().raw()) {
      if ("CustomResourceDefinition".equals(n.path("kind").asText())) {
        ours.append("---\n").append(yaml(n));
      }
    }
    StringBuilder official = new StringBuilder();
    for (JsonNode crd : OfficialChart.crds().values()) {
      ObjectNode renamed = crd.deepCopy();
      ((ObjectNode) renamed.path("spec")).put("group", OFFICIAL_GROUP);
      ((ObjectNode) renamed.path("metadata")).put("name", crd.at("/spec/names/plural").asText() + "." + OFFICIAL_GROUP);
      official.append("---\n").append(yaml(renamed));
    }
    assertThat(KUBE.server().installCrds(stream(ours), "our chart's CRDs")).hasSize(5);
    assertThat(KUBE.server().installCrds(stream(official), "the official CRDs")).hasSize(5);
  }

  static Stream<Path> validExamples() {
    List<Path> all = new ArrayList<>(OfficialChart.examples());
    all.addAll(files("crd-examples/valid"));
    return all.stream();
  }

  static Stream<Path> invalidExamples() {
    return files("crd-examples/invalid").stream();
  }

  @Test
  void theExamplesSetEveryKindAndTheInvalidOnesCoverEveryKind() {
    for (Class<? extends CustomResource<?, ?>> kind : TailscaleResources.KINDS) {
      String k = io.fabric8.kubernetes.api.model.HasMetadata.getKind(kind);
      assertThat(validExamples().map(CrdExamplesTest::read).filter(n -> k.equals(n.path("kind").asText())))
          .as("valid examples of %s", k).hasSizeGreaterThanOrEqualTo(2);
      assertThat(invalidExamples().map(CrdExamplesTest::read).filter(n -> k.equals(n.path("kind").asText())))
          .as("invalid examples of %s", k).isNotEmpty();
    }
  }

  /**
   * Valid examples that the official CRDs reject anyway, with the message: upstream bugs that our CRDs fix (each
   * listed in {@link OfficialCrdDifferences}). Checked, so that an entry goes when the official CRDs accept it.
   */
  static final Map<String, String> REJECTED_BY_THE_OFFICIAL_CRDS = Map.of(
      "recorder.yaml", "no such key: replicas evaluating rule: S3 storage must be used when deploying multiple "
          + "Recorder replicas");

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void isAcceptedUnchangedByOurCrdsAndTheOfficialOnes(Path file) {
    JsonNode example = read(file);
    for (Crds crds : Crds.values()) {
      ObjectNode obj = inGroup(example, crds);
      JsonNode status = obj.remove("status");
      String officialBug = REJECTED_BY_THE_OFFICIAL_CRDS.get(file.getFileName().toString());
      if (crds == Crds.OFFICIAL && officialBug != null) {
        assertThatThrownBy(() -> client.resource(generic(obj)).dryRun().fieldValidation(Validation.STRICT).create())
            .as("%s: still rejected by the official CRDs", file.getFileName()).hasMessageContaining(officialBug);
        continue;
      }
      GenericKubernetesResource created = client.resource(generic(obj))
          .fieldValidation(Validation.STRICT).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      assertThat(tree(created).path("spec")).as("%s: spec as stored with the %s CRDs", file.getFileName(), crds)
          .isEqualTo(withOurDefaults(obj).path("spec"));
      if (status != null) {
        ObjectNode withStatus = tree(created).deepCopy();
        withStatus.set("status", status);
        GenericKubernetesResource updated = client.resource(generic(withStatus))
            .fieldValidation(Validation.STRICT).updateStatus();
        assertThat(tree(updated).path("status")).as("%s: status as stored with the %s CRDs", file.getFileName(),
            crds).isEqualTo(status);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validExamples")
  void readsIntoTheJavaModelWithoutLosingAField(Path file) throws IOException {
    JsonNode example = read(file);
    Class<? extends CustomResource<?, ?>> type = TailscaleResources.KINDS.stream()
        .filter(k -> io.fabric8.kubernetes.api.model.HasMetadata.getKind(k).equals(example.path("kind").asText()))
        .findFirst().orElseThrow();
    CustomResource<?, ?> typed = Rendered.SERIALIZATION.unmarshal(Files.readString(file), type);
    JsonNode back = reparsed(Chart.YAML.valueToTree(typed));
    assertThat(quantitiesAsText(back.path("spec"))).as("spec").isEqualTo(quantitiesAsText(example.path("spec")));
    if (example.has("status")) {
      assertThat(back.path("status")).as("status").isEqualTo(example.path("status"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidExamples")
  void isRejectedByOurCrdsAndTheOfficialOnes(Path file) throws IOException {
    String expected = Files.readAllLines(file).get(0).replaceFirst("^# expect: ", "");
    JsonNode example = read(file);
    for (Crds crds : Crds.values()) {
      ObjectNode obj = inGroup(example, crds);
      assertThatThrownBy(() -> client.resource(generic(obj)).dryRun().fieldValidation(Validation.STRICT).create())
          .as("%s with the %s CRDs", file.getFileName(), crds)
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(expected);
    }
  }

  @Test
  void aProxyGroupsTypeCannotChange() {
    for (Crds crds : Crds.values()) {
      ObjectNode pg = inGroup(Chart.yaml("""
          apiVersion: tailscale.com/v1alpha1
          kind: ProxyGroup
          metadata:
            name: immutable-type
          spec:
            type: egress
          """), crds);
      client.resource(generic(pg)).fieldManager(FIELD_MANAGER).serverSideApply();
      ((ObjectNode) pg.path("spec")).put("type", "ingress");
      assertThatThrownBy(() -> client.resource(generic(pg)).fieldManager(FIELD_MANAGER).serverSideApply())
          .as("with the %s CRDs", crds).hasMessageContaining("ProxyGroup type is immutable");
    }
  }

  @Test
  void serverSideApplyMergesConditionsByTypeAsUpstream() {
    // status.conditions is a list-map keyed by type: two writers of different condition types both keep theirs.
    for (Crds crds : Crds.values()) {
      ObjectNode c = inGroup(Chart.yaml("""
          apiVersion: tailscale.com/v1alpha1
          kind: Connector
          metadata:
            name: two-writers
          spec:
            exitNode: true
          """), crds);
      client.resource(generic(c)).fieldManager(FIELD_MANAGER).serverSideApply();
      for (String type : List.of("ConnectorReady", "Other")) {
        ObjectNode status = c.deepCopy();
        status.remove("spec");
        status.set("status", Chart.yaml("conditions: [{type: " + type + ", status: 'False', reason: R, message: m, "
            + "lastTransitionTime: '2026-01-01T00:00:00Z'}]"));
        client.resource(generic(status)).subresource("status").patch(new PatchContext.Builder()
            .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager("writer-" + type).withForce(true).build());
      }
      JsonNode stored = tree(client.resource(generic(c)).get());
      List<String> types = new ArrayList<>();
      stored.at("/status/conditions").forEach(x -> types.add(x.path("type").asText()));
      assertThat(types).as("with the %s CRDs", crds).containsExactlyInAnyOrder("ConnectorReady", "Other");
    }
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  /** The object as our CRDs store it: defaults filled in (the only one: a Recorder's replicas, see the differences). */
  static JsonNode withOurDefaults(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    if (obj.path("kind").asText().equals("Recorder") && obj.path("apiVersion").asText().startsWith("tailscale.com/")
        && !obj.path("spec").has("replicas")) {
      ((ObjectNode) copy.path("spec")).put("replicas", 1);
    }
    return copy;
  }

  /** Written and read again: the same number node types as a parsed file (a Long field reads back as an int). */
  static JsonNode reparsed(JsonNode n) {
    return Chart.yaml(yaml(n));
  }

  static ObjectNode inGroup(JsonNode example, Crds crds) {
    ObjectNode copy = example.deepCopy();
    if (crds == Crds.OFFICIAL) {
      copy.put("apiVersion", copy.path("apiVersion").asText().replace("tailscale.com/", OFFICIAL_GROUP + "/"));
    }
    return copy;
  }

  /** Quantities may be written as numbers; the Java model writes them as text. */
  static JsonNode quantitiesAsText(JsonNode spec) {
    JsonNode copy = spec.deepCopy();
    copy.findParents("requests").forEach(p -> textValues(p.get("requests")));
    copy.findParents("limits").forEach(p -> textValues(p.get("limits")));
    return copy;
  }

  private static void textValues(JsonNode map) {
    if (map instanceof ObjectNode o) {
      o.fields().forEachRemaining(e -> o.put(e.getKey(), e.getValue().asText()));
    }
  }

  static GenericKubernetesResource generic(JsonNode n) {
    return Chart.YAML.convertValue(n, GenericKubernetesResource.class);
  }

  static JsonNode tree(GenericKubernetesResource r) {
    return Chart.YAML.valueToTree(r);
  }

  static JsonNode read(Path file) {
    try {
      return Chart.yaml(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String yaml(JsonNode n) {
    try {
      return Chart.YAML.writeValueAsString(n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ByteArrayInputStream stream(CharSequence text) {
    return new ByteArrayInputStream(text.toString().getBytes(StandardCharsets.UTF_8));
  }

  static List<Path> files(String resource) {
    try (Stream<Path> s = Files.list(Path.of(CrdExamplesTest.class.getClassLoader().getResource(resource).toURI()))) {
      return s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
