package io.tailops.it.golden;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The golden files' text form: YAML documents separated by {@code ---}, map keys in a fixed order (the usual
 * {@code apiVersion}, {@code kind}, {@code metadata}, … first, then alphabetical), list order kept. Writing a tree and
 * reading it back gives the same tree, so the comparison can work on trees and still show a text diff.
 */
final class GoldenYaml {
  /** Keys that come first, in this order, wherever they appear; all others follow alphabetically. */
  private static final List<String> FIRST = List.of("apiVersion", "kind", "metadata", "name", "generateName",
      "namespace", "labels", "annotations", "finalizers", "ownerReferences", "type", "spec", "stringData", "data",
      "status");

  private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .disable(YAMLGenerator.Feature.SPLIT_LINES)
      .build());

  private GoldenYaml() {
  }

  /** The documents as YAML text, in order, separated by {@code ---} lines. */
  static String render(List<? extends JsonNode> docs) {
    StringBuilder out = new StringBuilder();
    for (JsonNode doc : docs) {
      if (out.length() > 0) {
        out.append("---\n");
      }
      try {
        out.append(YAML.writeValueAsString(ordered(doc)));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString();
  }

  /** The documents of a YAML text (comments dropped). */
  static List<ObjectNode> parse(String text) {
    List<ObjectNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && n.isObject()) {
          docs.add((ObjectNode) n);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return docs;
  }

  /** A copy with map keys in the golden order. */
  static JsonNode ordered(JsonNode node) {
    if (node.isObject()) {
      Map<String, JsonNode> rest = new TreeMap<>();
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> e = fields.next();
        rest.put(e.getKey(), ordered(e.getValue()));
      }
      for (String k : FIRST) {
        JsonNode v = rest.remove(k);
        if (v != null) {
          out.set(k, v);
        }
      }
      rest.forEach(out::set);
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      node.forEach(e -> out.add(ordered(e)));
      return out;
    }
    return node;
  }
}
