package io.tailops.it.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The one list of ways our objects differ from the official operator's for the golden inputs
 * ({@code integration-tests/golden/differences.yaml}), each with a reason and a status ({@code deliberate}, or
 * {@code known, to fix} for a difference that is a defect of ours waiting for its fix). Each entry names a place in
 * the golden files and how the two sides differ there:
 *
 * <ul>
 *   <li>{@code only: ours}: the place exists only in our output (an annotation of ours, an extra object); it is
 *       removed from ours before comparing;</li>
 *   <li>{@code only: official}: it exists only in the official operator's output; removed from theirs;</li>
 *   <li>no {@code only}: both have it with different values; both are replaced by {@code <differs: id>}.</li>
 * </ul>
 *
 * <p>Where: {@code file} (a glob over golden file ids such as {@code service/my-namespace/*}; default every file),
 * {@code kind} and {@code name} (a regex over the normalised name) of the document, and {@code path} (or {@code paths},
 * several places of one difference): a JSON pointer ({@code /metadata/annotations/tailscale.com~1operator-spec-hash})
 * whose segments may also be {@code [field=value]} (the list items with that field value) or {@code *} (every item or
 * field); an empty path is the whole document. A map (say {@code annotations}) left empty by a removal is removed too.
 *
 * <p>An entry whose paths match nothing, or no longer differ, fails the comparison: the list never claims a difference
 * that is not there.
 */
final class KnownDifferences {
  /** One entry of the list. */
  record Entry(String id, String status, String reason, String file, String kind, String name, List<String> paths,
      String only) {
    boolean matchesDoc(String fileId, JsonNode doc) {
      if (file != null) {
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + file);
        if (!m.matches(Path.of(fileId))) {
          return false;
        }
      }
      if (kind != null && !kind.equals(doc.path("kind").asText())) {
        return false;
      }
      return name == null || Pattern.matches(name, doc.path("metadata").path("name").asText());
    }
  }

  static final Set<String> STATUSES = Set.of("deliberate", "known, to fix");

  private final List<Entry> entries;

  KnownDifferences(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  static KnownDifferences load(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static KnownDifferences parse(String yaml) {
    List<Entry> out = new ArrayList<>();
    for (ObjectNode doc : GoldenYaml.parse(yaml)) {
      for (JsonNode e : doc.path("differences")) {
        List<String> paths = new ArrayList<>();
        if (e.has("path")) {
          paths.add(e.get("path").asText(""));
        }
        e.path("paths").forEach(p -> paths.add(p.asText()));
        Entry entry = new Entry(text(e, "id"), text(e, "status"), text(e, "reason"), text(e, "file"),
            text(e, "kind"), text(e, "name"), List.copyOf(paths), text(e, "only"));
        if (paths.isEmpty()) {
          throw new IllegalArgumentException("difference " + entry.id() + ": path or paths is missing");
        }
        if (entry.id() == null || entry.reason() == null || entry.reason().isBlank()) {
          throw new IllegalArgumentException("every difference needs an id and a reason: " + e);
        }
        if (!STATUSES.contains(entry.status())) {
          throw new IllegalArgumentException("difference " + entry.id() + ": status must be one of " + STATUSES);
        }
        if (entry.only() != null && !Set.of("ours", "official").contains(entry.only())) {
          throw new IllegalArgumentException("difference " + entry.id() + ": only must be ours or official");
        }
        out.add(entry);
      }
    }
    return new KnownDifferences(out);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  List<Entry> entries() {
    return entries;
  }

  /**
   * Applies every entry to both sides (in place).
   *
   * @return the problems with the list itself (entries that match nothing or no longer differ); empty when it holds
   */
  List<String> apply(TreeMap<String, List<ObjectNode>> official, TreeMap<String, List<ObjectNode>> ours) {
    List<String> problems = new ArrayList<>();
    for (Entry entry : entries) {
      for (String path : entry.paths()) {
        apply(entry, path, official, ours, problems);
      }
    }
    return problems;
  }

  private static void apply(Entry e, String path, TreeMap<String, List<ObjectNode>> official,
      TreeMap<String, List<ObjectNode>> ours, List<String> problems) {
    List<Place> theirs = find(e, path, official);
    List<Place> mine = find(e, path, ours);
    if ("ours".equals(e.only())) {
      if (mine.isEmpty()) {
        problems.add(e.id() + ": nothing of ours at " + where(e, path) + " (fixed? then remove the entry)");
      } else if (!theirs.isEmpty()) {
        problems.add(e.id() + ": the official operator has " + where(e, path) + " too (not only ours)");
      }
      mine.forEach(p -> p.remove(ours));
    } else if ("official".equals(e.only())) {
      if (theirs.isEmpty()) {
        problems.add(e.id() + ": nothing of the official operator's at " + where(e, path));
      } else if (!mine.isEmpty()) {
        problems.add(e.id() + ": we have " + where(e, path) + " too (fixed? then remove the entry)");
      }
      theirs.forEach(p -> p.remove(official));
    } else {
      if (theirs.isEmpty() || mine.isEmpty()) {
        problems.add(e.id() + ": " + where(e, path) + " is missing on " + (theirs.isEmpty() ? "the official" : "our")
            + " side; use only: ours/official for that");
      } else if (theirs.stream().map(Place::value).toList().equals(mine.stream().map(Place::value).toList())) {
        problems.add(e.id() + ": " + where(e, path) + " no longer differs (fixed? then remove the entry)");
      }
      TextNode marker = TextNode.valueOf("<differs: " + e.id() + ">");
      theirs.forEach(p -> p.set(marker));
      mine.forEach(p -> p.set(marker));
    }
  }

  private static String where(Entry e, String path) {
    return (e.file() == null ? "" : e.file() + " ") + (e.kind() == null ? "" : e.kind() + " ")
        + (e.name() == null ? "" : e.name() + " ") + (path.isEmpty() ? "(whole object)" : path);
  }

  /**
   * A matched place: a whole document, or a field/item inside one ({@code container}); {@code outer} and
   * {@code outerField} say where an object container sits, so that a map emptied by a removal can go too.
   */
  private record Place(String file, ObjectNode doc, JsonNode container, String field, int index, JsonNode outer,
      String outerField) {
    JsonNode value() {
      if (container == null) {
        return doc;
      }
      return container.isArray() ? container.get(index) : container.get(field);
    }

    void remove(Map<String, List<ObjectNode>> files) {
      if (container == null) {
        files.get(file).removeIf(d -> d == doc);
      } else if (container.isArray()) {
        ((ArrayNode) container).remove(index);
      } else {
        ((ObjectNode) container).remove(field);
        if (container.isEmpty() && outer instanceof ObjectNode o && outerField != null) {
          o.remove(outerField);
        }
      }
    }

    void set(JsonNode v) {
      if (container == null) {
        throw new IllegalStateException("a whole document cannot differ in value; use only: ours/official");
      } else if (container.isArray()) {
        ((ArrayNode) container).set(index, v);
      } else {
        ((ObjectNode) container).set(field, v);
      }
    }
  }

  /** Places in reverse order within each container, so that removing list items keeps the other indices valid. */
  private static List<Place> find(Entry e, String path, TreeMap<String, List<ObjectNode>> files) {
    List<Place> out = new ArrayList<>();
    files.forEach((fileId, docs) -> {
      for (ObjectNode doc : docs) {
        if (!e.matchesDoc(fileId, doc)) {
          continue;
        }
        if (path.isEmpty()) {
          out.add(new Place(fileId, doc, null, null, -1, null, null));
        } else {
          walk(fileId, doc, null, null, doc, segments(path), 0, out);
        }
      }
    });
    List<Place> reversed = new ArrayList<>(out);
    java.util.Collections.reverse(reversed);
    return reversed;
  }

  static List<String> segments(String pointer) {
    if (!pointer.startsWith("/")) {
      throw new IllegalArgumentException("path must start with /: " + pointer);
    }
    List<String> out = new ArrayList<>();
    for (String s : pointer.substring(1).split("/", -1)) {
      out.add(s.replace("~1", "/").replace("~0", "~"));
    }
    return out;
  }

  private static void walk(String file, ObjectNode doc, JsonNode outer, String outerField, JsonNode node,
      List<String> segs, int i, List<Place> out) {
    String seg = segs.get(i);
    boolean last = i == segs.size() - 1;
    List<Object> keys = new ArrayList<>(); // String field or Integer index
    if (node.isObject()) {
      if (seg.equals("*")) {
        node.fieldNames().forEachRemaining(keys::add);
      } else if (node.has(seg)) {
        keys.add(seg);
      }
    } else if (node.isArray()) {
      if (seg.equals("*")) {
        for (int k = 0; k < node.size(); k++) {
          keys.add(k);
        }
      } else if (seg.startsWith("[") && seg.endsWith("]") && seg.contains("=")) {
        String field = seg.substring(1, seg.indexOf('='));
        String value = seg.substring(seg.indexOf('=') + 1, seg.length() - 1);
        for (int k = 0; k < node.size(); k++) {
          if (value.equals(node.get(k).path(field).asText(null))) {
            keys.add(k);
          }
        }
      } else if (seg.matches("\\d+") && Integer.parseInt(seg) < node.size()) {
        keys.add(Integer.parseInt(seg));
      }
    }
    for (Object k : keys) {
      JsonNode child = k instanceof Integer idx ? node.get(idx) : node.get((String) k);
      if (last) {
        out.add(new Place(file, doc, node, k instanceof String f ? f : null, k instanceof Integer idx ? idx : -1,
            outer, outerField));
      } else {
        walk(file, doc, node, k instanceof String f ? f : null, child, segs, i + 1, out);
      }
    }
  }
}
