package io.tailops.release;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The GitHub Actions workflows cannot run here; actionlint (built from its Go module) checks them: syntax, job and
 * step keys, expressions and their types, action inputs, permissions, and untrusted inputs in scripts. Shell scripts
 * inside {@code run:} are left to the release test, which runs the same commands (shellcheck is not used, so the
 * result does not depend on what else is installed).
 */
class WorkflowLintTest {

  static List<Path> workflows() throws IOException {
    try (Stream<Path> s = Files.list(Repo.root().resolve(".github/workflows"))) {
      return s.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  static OneShotCommand.Result actionlint(Path workDir, List<Path> files) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Repo.tool("actionlint").toString(), "-shellcheck=", "-pyflakes=",
        "-no-color"));
    files.forEach(f -> cmd.add(f.toString()));
    return OneShotCommand.run(cmd, Repo.env(Files.createTempDirectory("actionlint-home-"), Map.of()), workDir,
        Duration.ofMinutes(2));
  }

  @Test
  void theWorkflowsLintClean() throws IOException {
    List<Path> files = workflows();
    assertThat(files).extracting(p -> p.getFileName().toString()).contains("ci.yml", "release.yml");
    OneShotCommand.Result r = actionlint(Repo.root(), files);
    assertThat(r.stdout() + r.stderr()).as("actionlint findings").isEmpty();
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void theLinterWouldCatchAMistake() throws IOException {
    // Control: the same release workflow with a misspelt needs and an expression on an unknown context fails.
    Path dir = Files.createTempDirectory("actionlint-");
    Path wf = Files.createDirectories(dir.resolve(".github/workflows")).resolve("release.yml");
    String text = Files.readString(Repo.root().resolve(".github/workflows/release.yml"))
        .replace("needs: test", "needs: tests")
        .replace("${{ github.ref_name }}", "${{ github.ref_nam }}");
    Files.writeString(wf, text);
    Files.copy(Repo.root().resolve(".github/workflows/ci.yml"), wf.resolveSibling("ci.yml"));
    OneShotCommand.Result r = actionlint(dir, List.of(wf));
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stdout()).contains("tests").contains("ref_nam");
  }

  @Test
  void theReleaseWorkflowRunsTheTestedScriptWithTheToolsItPins() throws IOException {
    String release = Files.readString(Repo.root().resolve(".github/workflows/release.yml"));
    // The steps ReleaseScriptTest checks here are the ones the forge runs.
    assertThat(release).contains("bash tools/release.sh --version")
        .contains("bash tools/build-binaries.sh --only crane,cosign,helm")
        .contains("uses: ./.github/workflows/ci.yml")
        .contains("id-token: write").contains("packages: write");
    assertThat(Files.readString(Repo.root().resolve(".github/workflows/ci.yml"))).contains("bash .ci/run");
  }
}
