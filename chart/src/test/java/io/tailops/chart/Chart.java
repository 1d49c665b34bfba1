package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Renders the chart with real Helm (helm-java runs Helm's Go code in-process) and parses the result. Values are
 * given as YAML text, written to a temporary values file, so lists and maps go in exactly as a user's values file
 * (or a Flux HelmRelease's {@code values:}) would put them.
 */
final class Chart {
  static final String RELEASE = "tailscale-operator";
  static final String NAMESPACE = "tailscale";
  static final YAMLMapper YAML = new YAMLMapper();

  private Chart() {
  }

  /** The chart directory: system property {@code chart.dir} (set by the POM), else relative to the module. */
  static Path dir() {
    String p = System.getProperty("chart.dir");
    Path dir = p != null && !p.isBlank() ? Path.of(p.trim()) : Path.of("tailscale-operator");
    if (!Files.isRegularFile(dir.resolve("Chart.yaml"))) {
      throw new IllegalStateException("chart not found at " + dir.toAbsolutePath());
    }
    return dir;
  }

  static Helm helm() {
    return new Helm(dir());
  }

  /** Renders with the chart's defaults. */
  static Rendered render() {
    return render("");
  }

  /** Renders with the given values (YAML text; empty for defaults), as release tailscale-operator in tailscale. */
  static Rendered render(String valuesYaml) {
    TemplateCommand cmd = helm().template().withName(RELEASE).withNamespace(NAMESPACE);
    if (!valuesYaml.isBlank()) {
      cmd = cmd.withValuesFile(valuesFile(valuesYaml));
    }
    return Rendered.parse(cmd.call());
  }

  /** Renders with the given values and returns Helm's error message; fails the test if rendering succeeds. */
  static String renderError(String valuesYaml) {
    String[] message = new String[1];
    assertThatThrownBy(() -> render(valuesYaml))
        .isInstanceOf(IllegalStateException.class)
        .satisfies(e -> message[0] = e.getMessage());
    return message[0];
  }

  /**
   * The NOTES Helm prints after an install with these values: a client-side dry-run install (no cluster needed),
   * whose output is Helm's usual summary followed by "NOTES:" and the rendered NOTES.txt.
   */
  static String notes(String valuesYaml) {
    InstallCommand cmd = helm().install().withName(RELEASE).withNamespace(NAMESPACE).dryRun().clientOnly();
    if (!valuesYaml.isBlank()) {
      cmd = cmd.withValuesFile(valuesFile(valuesYaml));
    }
    String out = cmd.call().getOutput();
    int i = out.indexOf("NOTES:");
    if (i < 0) {
      throw new AssertionError("no NOTES in Helm's output:\n" + out);
    }
    return out.substring(i + "NOTES:".length());
  }

  static Path valuesFile(String valuesYaml) {
    try {
      Path f = Files.createTempFile("values-", ".yaml");
      f.toFile().deleteOnExit();
      Files.writeString(f, valuesYaml);
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses one YAML document (e.g. expected values in a test). */
  static JsonNode yaml(String text) {
    try {
      return YAML.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses every non-empty document of a multi-document YAML stream. */
  static java.util.List<JsonNode> yamlDocuments(String text) {
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
      java.util.List<JsonNode> docs = new java.util.ArrayList<>();
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isNull() && !n.isMissingNode() && !n.isEmpty()) {
          docs.add(n);
        }
      }
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
