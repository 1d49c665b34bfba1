package io.tailops.operator.golden;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The golden files of the official operator (integration-tests/golden, see docs/golden.md) read by fast unit tests, so
 * that the pure builders are checked against what the official operator v1.94.2 made of the same input, without an API
 * server. A golden file is normalised (placeholders such as {@code <uid:Service/ns/name>}, {@code ts-db-<suffix>},
 * {@code <login-server>}); a test feeds those placeholders to the builder as the values, so the output is comparable.
 * The golden objects went through the API server and carry its defaults, so the comparison is "everything we set is
 * there with the same value", with label and annotation maps and every list compared whole (see
 * {@link #assertCovers}).
 */
public final class GoldenObjects {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private GoldenObjects() {
  }

  /** The repository's root (the operator module's parent). */
  public static Path repo() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("integration-tests")) ? here : here.getParent();
  }

  /** The documents of a golden file, e.g. {@code service/egress-demo/db}. */
  public static List<ObjectNode> expected(String fileId) {
    return documents(repo().resolve("integration-tests/golden/expected").resolve(fileId + ".yaml"));
  }

  /** The documents of a golden input file, e.g. {@code egress/services.yaml}. */
  public static List<ObjectNode> inputs(String relativePath) {
    return documents(repo().resolve("integration-tests/golden/inputs").resolve(relativePath));
  }

  /** The document of {@code kind} named {@code name} (a normalised name, placeholders included). */
  public static ObjectNode find(List<ObjectNode> docs, String kind, String name) {
    return docs.stream().filter(d -> kind.equals(d.path("kind").asText())
        && name.equals(d.path("metadata").path("name").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in the golden documents"));
  }

  /** The input object of {@code kind} named {@code name}, as {@code type}. */
  public static <T> T input(String relativePath, String kind, String name, Class<T> type) {
    return Serialization.jsonMapper().convertValue(find(inputs(relativePath), kind, name), type);
  }

  static List<ObjectNode> documents(Path file) {
    try {
      List<ObjectNode> out = new ArrayList<>();
      for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
        JsonNode n = YAML.readTree(doc);
        if (n instanceof ObjectNode o) {
          out.add(o);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Asserts that the golden object has every field of ours with the same value: maps may have more keys (API-server
   * defaults such as {@code terminationMessagePath}), except labels and annotations, which must be equal; lists must
   * have the same length and covering elements in the same order.
   *
   * @param ignored JSON pointers removed from ours first (a difference listed in differences.yaml)
   */
  public static void assertCovers(ObjectNode golden, Object ours, String... ignored) {
    ObjectNode o = (ObjectNode) Serialization.jsonMapper().valueToTree(ours);
    for (String pointer : ignored) {
      int slash = pointer.lastIndexOf('/');
      JsonNode parent = o.at(pointer.substring(0, slash));
      if (parent instanceof ObjectNode p) {
        p.remove(pointer.substring(slash + 1).replace("~1", "/").replace("~0", "~"));
        if (p.isEmpty()) {
          JsonNode grand = o.at(pointer.substring(0, pointer.lastIndexOf('/', slash - 1)));
          if (grand instanceof ObjectNode g) {
            g.remove(pointer.substring(pointer.lastIndexOf('/', slash - 1) + 1, slash));
          }
        }
      }
    }
    List<String> problems = new ArrayList<>();
    covers(golden, o, "", problems);
    assertThat(problems).as("fields where ours differs from the official operator's %s %s", golden.path("kind")
        .asText(), golden.path("metadata").path("name").asText()).isEmpty();
  }

  private static final Set<String> WHOLE_MAPS = Set.of("labels", "annotations");

  private static void covers(JsonNode golden, JsonNode ours, String at, List<String> problems) {
    if (ours.isObject()) {
      if (!golden.isObject()) {
        problems.add(at + ": official " + golden + ", ours " + ours);
        return;
      }
      String last = at.substring(at.lastIndexOf('/') + 1);
      if (WHOLE_MAPS.contains(last) && !golden.equals(ours)) {
        problems.add(at + ": official " + golden + ", ours " + ours);
        return;
      }
      Iterator<Map.Entry<String, JsonNode>> it = ours.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getValue().isNull()) {
          continue;
        }
        JsonNode g = golden.get(e.getKey());
        if (g == null) {
          problems.add(at + "/" + e.getKey() + ": only ours (" + e.getValue() + ")");
        } else {
          covers(g, e.getValue(), at + "/" + e.getKey(), problems);
        }
      }
      if (WHOLE_MAPS.stream().anyMatch(golden::has) && at.endsWith("metadata")) {
        for (String m : WHOLE_MAPS) {
          if (golden.has(m) && !ours.has(m)) {
            problems.add(at + "/" + m + ": only official (" + golden.get(m) + ")");
          }
        }
      }
      return;
    }
    if (ours.isArray()) {
      if (!golden.isArray() || golden.size() != ours.size()) {
        problems.add(at + ": official " + golden + ", ours " + ours);
        return;
      }
      for (int i = 0; i < ours.size(); i++) {
        covers(golden.get(i), ours.get(i), at + "/" + i, problems);
      }
      return;
    }
    if (!golden.asText().equals(ours.asText())) {
      problems.add(at + ": official " + golden + ", ours " + ours);
    }
  }
}
