package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's CRD templates must install exactly the CRDs the api module generates from the Java model (plus the
 * keep annotation). When this fails, run {@code chart/sync-crds.sh}.
 */
class ChartCrdSyncTest {
  static final String FIX = "the chart's CRD templates are out of date with the api module: run chart/sync-crds.sh"
      + " (it rebuilds the api module and rewrites chart/tailscale-operator/templates/crd-*.yaml)";

  static Map<String, JsonNode> generated;
  static Map<String, JsonNode> rendered;

  @BeforeAll
  static void load() throws Exception {
    generated = generatedCrds();
    rendered = new TreeMap<>();
    for (JsonNode n : Chart.render().raw()) {
      if ("CustomResourceDefinition".equals(n.path("kind").asText())) {
        rendered.put(n.path("metadata").path("name").asText(), n);
      }
    }
  }

  @Test
  void theApiModuleGeneratesEveryKind() {
    assertThat(generated).as("CRDs found under META-INF/fabric8 on the test classpath (the api module)")
        .containsOnlyKeys("proxyclasses.tailscale.com", "connectors.tailscale.com", "proxygroups.tailscale.com",
            "recorders.tailscale.com", "dnsconfigs.tailscale.com");
  }

  @Test
  void chartInstallsExactlyTheGeneratedCrds() {
    assertThat(rendered.keySet()).as(FIX).containsExactlyInAnyOrderElementsOf(generated.keySet());
  }

  @Test
  void eachCrdTemplateEqualsTheGeneratedCrd() {
    for (Map.Entry<String, JsonNode> e : generated.entrySet()) {
      JsonNode chart = rendered.get(e.getKey());
      assertThat(chart).as(FIX + " (missing %s)", e.getKey()).isNotNull();
      ObjectNode withoutKeep = chart.deepCopy();
      ObjectNode meta = (ObjectNode) withoutKeep.path("metadata");
      ObjectNode annotations = (ObjectNode) meta.path("annotations");
      assertThat(annotations.path("helm.sh/resource-policy").asText())
          .as("%s must carry helm.sh/resource-policy: keep; %s", e.getKey(), FIX).isEqualTo("keep");
      annotations.remove("helm.sh/resource-policy");
      if (annotations.isEmpty() && !e.getValue().path("metadata").has("annotations")) {
        meta.remove("annotations");
      }
      assertThat(withoutKeep).as("%s: %s", e.getKey(), FIX).isEqualTo(e.getValue());
    }
  }

  @Test
  void crdTemplatesAreGatedByInstallCrds() throws IOException {
    try (Stream<Path> files = Files.list(Chart.dir().resolve("templates"))) {
      files.filter(f -> f.getFileName().toString().startsWith("crd-")).forEach(f -> {
        try {
          String text = Files.readString(f);
          assertThat(text).as(f.toString()).startsWith("{{- if .Values.installCRDs }}");
          assertThat(text.strip()).as(f.toString()).endsWith("{{- end }}");
        } catch (IOException ex) {
          throw new java.io.UncheckedIOException(ex);
        }
      });
    }
  }

  /** Every tailscale.com CRD in {@code META-INF/fabric8/*-v1.yml} on the classpath, by CRD name. */
  static Map<String, JsonNode> generatedCrds() throws Exception {
    Map<String, JsonNode> out = new TreeMap<>();
    Enumeration<URL> dirs = ChartCrdSyncTest.class.getClassLoader().getResources("META-INF/fabric8");
    for (URL url : Collections.list(dirs)) {
      URI uri = url.toURI();
      if ("jar".equals(uri.getScheme())) {
        FileSystem fs;
        boolean close = false;
        try {
          fs = FileSystems.getFileSystem(uri);
        } catch (FileSystemNotFoundException e) {
          fs = FileSystems.newFileSystem(uri, Map.of());
          close = true;
        }
        try {
          readCrds(fs.getPath("META-INF/fabric8"), out);
        } finally {
          if (close) {
            fs.close();
          }
        }
      } else {
        readCrds(Path.of(uri), out);
      }
    }
    return out;
  }

  private static void readCrds(Path dir, Map<String, JsonNode> out) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith("-v1.yml")).toList()) {
        try (InputStream in = Files.newInputStream(f)) {
          JsonNode crd = Chart.yaml(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          if ("CustomResourceDefinition".equals(crd.path("kind").asText())
              && "tailscale.com".equals(crd.path("spec").path("group").asText())) {
            out.put(crd.path("metadata").path("name").asText(), crd);
          }
        }
      }
    }
  }
}
