package io.tailops.it.golden;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the golden material lives (docs/golden.md). */
final class GoldenPaths {
  private GoldenPaths() {
  }

  /** The repository root, found above the working folder (Maven runs the tests in the module's folder). */
  static Path repo() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isDirectory(d.resolve("examples")) && Files.isDirectory(d.resolve("integration-tests"))) {
        return d;
      }
    }
    throw new IllegalStateException("cannot find the repository root (with examples/ and integration-tests/) above "
        + dir);
  }

  /** {@code integration-tests/golden}. */
  static Path golden(Path repo) {
    return repo.resolve("integration-tests").resolve("golden");
  }

  /** Folders of more inputs, one per kind or topic ({@code examples/} is always an input too). */
  static Path inputs(Path repo) {
    return golden(repo).resolve("inputs");
  }

  /** The official operator's objects, one file per input object. */
  static Path expected(Path repo) {
    return golden(repo).resolve("expected");
  }

  /** The one list of differences between our objects and the official operator's. */
  static Path differences(Path repo) {
    return golden(repo).resolve("differences.yaml");
  }
}
