package io.tailops.release;

import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The repository these tests check: its root, where releases are published, and the release tools' paths. */
final class Repo {
  private static Map<String, String> toolEnv;

  private Repo() {
  }

  /** The repository root: system property {@code repo.root} (set by the POM), else the module's parent. */
  static Path root() {
    String p = System.getProperty("repo.root");
    Path root = p != null && !p.isBlank() ? Path.of(p.trim()) : Path.of("..").toAbsolutePath().normalize();
    if (!Files.isRegularFile(root.resolve("tools/release/published.env"))) {
      throw new IllegalStateException("not the repository root: " + root);
    }
    return root;
  }

  /** tools/release/published.env: the one place that names where releases are published. */
  static Map<String, String> published() {
    Map<String, String> m = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(root().resolve("tools/release/published.env"))) {
        String l = line.strip();
        if (!l.isEmpty() && !l.startsWith("#") && l.contains("=")) {
          m.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return m;
  }

  /** The chart's version (= appVersion = the release version). */
  static String chartVersion() {
    try {
      return Files.readAllLines(root().resolve("chart/tailscale-operator/Chart.yaml")).stream()
          .filter(l -> l.startsWith("version:")).map(l -> l.substring("version:".length()).strip().replace("\"", ""))
          .findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The variables tools/build-binaries.sh prints (TSOP_CRANE, TSOP_COSIGN, TSOP_HELM, TSOP_REGISTRY, ...). */
  static synchronized Map<String, String> toolEnv() {
    if (toolEnv == null) {
      Map<String, String> env = new HashMap<>(System.getenv());
      OneShotCommand.Result r = OneShotCommand.run(List.of("bash", root().resolve("tools/build-binaries.sh").toString(),
          "--print-env"), env, root(), Duration.ofSeconds(30)).require();
      Map<String, String> m = new LinkedHashMap<>();
      for (String line : r.stdout().split("\n")) {
        if (line.startsWith("export ") && line.contains("=")) {
          String kv = line.substring("export ".length());
          m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1).replace("'", ""));
        }
      }
      toolEnv = Map.copyOf(m);
    }
    return toolEnv;
  }

  /** Path of a release tool (registry, crane, cosign, helm, actionlint), built by build-binaries.sh --only release. */
  static Path tool(String name) {
    String path = toolEnv().get("TSOP_" + name.toUpperCase());
    if (path == null || !Files.isExecutable(Path.of(path))) {
      throw new IllegalStateException(name + " is not built at " + path + ": bash tools/build-binaries.sh --only "
          + "release (the module's build does it before the tests)");
    }
    return Path.of(path);
  }

  /** A clean environment for a tool: PATH, HOME (a temporary one, so no user config leaks in) and the given ones. */
  static Map<String, String> env(Path home, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    env.put("HOME", home.toString());
    env.putAll(extra);
    return env;
  }

  /** Deletes a temporary directory and everything in it (the image layout and registry storage are ~100 MB). */
  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
