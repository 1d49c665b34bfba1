package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.LintResult;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** `helm lint --strict` on the chart, and the chart's metadata. */
class ChartLintTest {

  @Test
  void lintStrictPassesWithoutWarningsOrErrors() {
    LintResult result = Chart.helm().lint().strict().call();

    assertThat(result.isFailed()).as("helm lint --strict failed: %s", result.getMessages()).isFalse();
    assertThat(result.getMessages())
        .as("helm lint messages")
        .noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  @Test
  void chartMetadataNamesTheJavaOperator() throws Exception {
    JsonNode chart = Chart.yaml(Files.readString(Chart.dir().resolve("Chart.yaml")));

    assertThat(chart.path("apiVersion").asText()).isEqualTo("v2");
    assertThat(chart.path("name").asText()).isEqualTo("tailscale-operator");
    assertThat(chart.path("version").asText()).isEqualTo("0.1.0");
    assertThat(chart.path("appVersion").isTextual()).as("appVersion is a quoted string").isTrue();
    assertThat(chart.path("appVersion").asText()).isEqualTo("0.1.0");
    assertThat(chart.path("description").asText()).contains("Java").containsIgnoringCase("drop-in");
  }

  @Test
  void chartHasTheExpectedFiles() {
    assertThat(Chart.dir().resolve("values.yaml")).isRegularFile();
    assertThat(Chart.dir().resolve("values.schema.json")).isRegularFile();
    assertThat(Chart.dir().resolve("templates/NOTES.txt")).isRegularFile();
    assertThat(Chart.dir().resolve("README.md")).isRegularFile();
  }
}
