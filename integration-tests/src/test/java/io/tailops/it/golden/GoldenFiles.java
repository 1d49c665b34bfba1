package io.tailops.it.golden;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Reading, writing and comparing sets of golden files ({@code <file id>.yaml} under {@code expected/}). */
final class GoldenFiles {
  private GoldenFiles() {
  }

  static String header(String fileId, String version) {
    return "# " + fileId + ": what the official operator (tailscale.com/cmd/k8s-operator v" + version + ") made of\n"
        + "# this input: the input as a user sees it, then the objects created for it; normalised (docs/golden.md).\n"
        + "# Written by tools/golden/regenerate.sh; do not edit by hand.\n";
  }

  /** Replaces every {@code *.yaml} under {@code dir} with the given files. */
  static void write(Path dir, Map<String, List<ObjectNode>> files, String version) {
    try {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> old = Files.walk(dir)) {
          for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
            if (Files.isRegularFile(p) && p.toString().endsWith(".yaml")) {
              Files.delete(p);
            } else if (Files.isDirectory(p) && !p.equals(dir)) {
              try (Stream<Path> left = Files.list(p)) {
                if (left.findAny().isEmpty()) {
                  Files.delete(p);
                }
              }
            }
          }
        }
      }
      for (Map.Entry<String, List<ObjectNode>> f : files.entrySet()) {
        Path p = dir.resolve(f.getKey() + ".yaml");
        Files.createDirectories(p.getParent());
        Files.writeString(p, header(f.getKey(), version) + GoldenYaml.render(f.getValue()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every golden file under {@code dir}: file id → documents. */
  static TreeMap<String, List<ObjectNode>> read(Path dir) {
    TreeMap<String, List<ObjectNode>> out = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        String rel = dir.relativize(p).toString();
        out.put(rel.substring(0, rel.length() - ".yaml".length()), GoldenYaml.parse(Files.readString(p)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Deep copies, so that applying the differences leaves the originals alone. */
  static TreeMap<String, List<ObjectNode>> copy(Map<String, List<ObjectNode>> files) {
    TreeMap<String, List<ObjectNode>> out = new TreeMap<>();
    files.forEach((k, docs) -> {
      List<ObjectNode> c = new ArrayList<>();
      docs.forEach(d -> c.add(d.deepCopy()));
      out.put(k, c);
    });
    return out;
  }

  /**
   * Compares our files with the official operator's after applying the known differences to both.
   *
   * @return a readable report (problems with the list of differences, then a unified diff per file), or an empty
   *     string when they match
   */
  static String compare(Map<String, List<ObjectNode>> official, Map<String, List<ObjectNode>> ours,
      KnownDifferences differences) {
    TreeMap<String, List<ObjectNode>> theirs = copy(official);
    TreeMap<String, List<ObjectNode>> mine = copy(ours);
    List<String> listProblems = differences.apply(theirs, mine);
    StringBuilder report = new StringBuilder();
    if (!listProblems.isEmpty()) {
      report.append("The list of known differences (integration-tests/golden/differences.yaml) does not hold:\n");
      listProblems.forEach(p -> report.append("  - ").append(p).append('\n'));
    }
    TreeSet<String> ids = new TreeSet<>(theirs.keySet());
    ids.addAll(mine.keySet());
    for (String id : ids) {
      String a = theirs.containsKey(id) ? GoldenYaml.render(theirs.get(id)) : "";
      String b = mine.containsKey(id) ? GoldenYaml.render(mine.get(id)) : "";
      String diff = LineDiff.unified(a, b, "official/" + id + ".yaml" + (theirs.containsKey(id) ? "" : " (no file)"),
          "ours/" + id + ".yaml" + (mine.containsKey(id) ? "" : " (no file)"));
      if (!diff.isEmpty()) {
        report.append('\n').append(diff);
      }
    }
    return report.toString();
  }
}
