package io.tailops.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The official Tailscale operator chart v1.94.2 with its CRDs, and the official examples: test fixtures under
 * {@code src/test/resources/official/v1.94.2} (origin and licence in the README there).
 */
final class OfficialChart {
  static final String VERSION = "1.94.2";
  static final String FIXTURE = "official/v1.94.2";

  private OfficialChart() {
  }

  static Path root() {
    try {
      return Path.of(OfficialChart.class.getClassLoader().getResource(FIXTURE).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path dir() {
    return root().resolve("chart");
  }

  static Helm helm() {
    return new Helm(dir());
  }

  /** The official chart rendered with its defaults, as release tailscale-operator in tailscale. */
  static Rendered render() {
    return Rendered.parse(helm().template().withName(Chart.RELEASE).withNamespace(Chart.NAMESPACE).call());
  }

  /** The CRDs the official chart installs, by name. */
  static Map<String, JsonNode> crds() {
    Map<String, JsonNode> out = new TreeMap<>();
    for (JsonNode n : render().raw()) {
      if ("CustomResourceDefinition".equals(n.path("kind").asText())) {
        out.put(n.path("metadata").path("name").asText(), n);
      }
    }
    return out;
  }

  /** The official example manifests (deploy/examples), one object per file. */
  static List<Path> examples() {
    try (Stream<Path> files = Files.list(root().resolve("examples"))) {
      return new ArrayList<>(files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
