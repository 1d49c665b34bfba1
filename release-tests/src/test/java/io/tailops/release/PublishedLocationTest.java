package io.tailops.release;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * tools/release/published.env is the one place that names where releases go; everything a user reads or installs
 * names the same places, so the chart's default image is the one the release pushes, and no document points a user at
 * an image that is published nowhere.
 */
class PublishedLocationTest {
  static final Map<String, String> PUBLISHED = Repo.published();
  static final String IMAGE = PUBLISHED.get("IMAGE_REPOSITORY");
  static final String CHART = PUBLISHED.get("CHART_REGISTRY");

  static String read(String path) throws IOException {
    return Files.readString(Repo.root().resolve(path));
  }

  @Test
  void theChartAndTheImageBuildNameThePublishedImage() throws IOException {
    assertThat(read("chart/tailscale-operator/values.yaml")).contains("    repository: " + IMAGE + "\n");
    assertThat(read("operator/pom.xml")).contains("<tsop.image.repository>" + IMAGE + "</tsop.image.repository>");
    String chart = read("chart/tailscale-operator/Chart.yaml");
    assertThat(chart).contains("version: " + Repo.chartVersion() + "\n").contains("appVersion: \"" + Repo.chartVersion()
        + "\"");
  }

  @Test
  void theInstallInstructionsUseThePublishedChart() throws IOException {
    String readme = read("README.md");
    assertThat(readme).contains("oci://" + CHART + "/tailscale-operator");
    assertThat(read("examples/flux/tailscale.yaml")).contains("url: oci://" + CHART + "\n");
    assertThat(read("docs/flux.md")).contains("oci://" + CHART);
    assertThat(read("docs/release.md")).contains(IMAGE).contains("oci://" + CHART);
  }

  @Test
  void noDocumentOrDefaultNamesAnUnpublishedImage() throws IOException {
    // The image path without the registry host, anywhere a user or the chart reads it: it must always come with
    // the published host (tailops/tailscale-operator alone would mean Docker Hub, where nothing is published).
    String path = IMAGE.substring(IMAGE.indexOf('/') + 1);
    String host = IMAGE.substring(0, IMAGE.indexOf('/'));
    Pattern bare = Pattern.compile("(?<![\\w.:/-])" + Pattern.quote(path) + "\\b");
    List<String> found = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    files.add(Repo.root().resolve("README.md"));
    for (String dir : List.of("docs", "chart/tailscale-operator", "examples")) {
      try (Stream<Path> s = Files.walk(Repo.root().resolve(dir))) {
        s.filter(Files::isRegularFile).filter(p -> p.toString().matches(".*\\.(md|yaml|yml|txt|tpl|json)$"))
            .forEach(files::add);
      }
    }
    for (Path f : files) {
      String text = Files.readString(f);
      Matcher m = bare.matcher(text);
      while (m.find()) {
        found.add(Repo.root().relativize(f) + ": ..." + text.substring(Math.max(0, m.start() - 30),
            Math.min(text.length(), m.end() + 10)).replace('\n', ' ') + "...");
      }
    }
    assertThat(found).as("image %s named without %s", path, host).isEmpty();
  }
}
