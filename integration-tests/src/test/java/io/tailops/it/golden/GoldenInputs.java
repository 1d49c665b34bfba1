package io.tailops.it.golden;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The fixed inputs both operators get: every YAML manifest in {@code examples/} (the seed guide's five proxies and the
 * ProxyClasses and namespaces they use, unchanged) and in each folder under {@code integration-tests/golden/inputs/}
 * (more kinds, added by later work as files). They are applied to an empty cluster in one go before the operator
 * starts: namespaces first, then {@code tailscale.com} resources (ProxyClasses, ...), then everything else, each group
 * in the order of the files (by path) and of the documents in a file.
 */
final class GoldenInputs {
  /** One input object and the file it came from (relative to the repository). */
  record Input(String source, ObjectNode object) {
    String apiVersion() {
      return object.path("apiVersion").asText();
    }

    String kind() {
      return object.path("kind").asText();
    }

    String name() {
      return object.path("metadata").path("name").asText();
    }

    String namespace() {
      return object.path("metadata").path("namespace").asText("");
    }

    String group() {
      String av = apiVersion();
      return av.contains("/") ? av.substring(0, av.indexOf('/')) : "";
    }

    /** {@code Kind ns/name} or {@code Kind name}. */
    String describe() {
      return kind() + " " + (namespace().isEmpty() ? "" : namespace() + "/") + name();
    }
  }

  private GoldenInputs() {
  }

  /** The folders whose {@code *.yaml} files are inputs, in order. */
  static List<Path> folders(Path repo) {
    List<Path> out = new ArrayList<>();
    out.add(repo.resolve("examples"));
    Path more = GoldenPaths.inputs(repo);
    if (Files.isDirectory(more)) {
      try (Stream<Path> dirs = Files.list(more)) {
        dirs.filter(Files::isDirectory).sorted().forEach(out::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** Every input, in the order they are applied. */
  static List<Input> load(Path repo) {
    List<Input> all = new ArrayList<>();
    for (Path folder : folders(repo)) {
      List<Path> files;
      try (Stream<Path> s = Files.list(folder)) {
        files = s.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (Path f : files) {
        String source = repo.relativize(f).toString();
        try {
          for (ObjectNode doc : GoldenYaml.parse(Files.readString(f))) {
            if (!doc.path("kind").asText().isEmpty()) {
              all.add(new Input(source, doc));
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    List<Input> ordered = new ArrayList<>(all);
    ordered.sort(Comparator.comparingInt(GoldenInputs::applyRank)); // stable: file order within a rank
    return ordered;
  }

  private static int applyRank(Input in) {
    if (in.kind().equals("Namespace")) {
      return 0;
    }
    return in.group().equals("tailscale.com") ? 1 : 2;
  }

  /** Creates every input in the cluster. */
  static void apply(KubernetesClient client, List<Input> inputs) {
    for (Input in : inputs) {
      GenericKubernetesResource r = Serialization.jsonMapper().convertValue(in.object(),
          GenericKubernetesResource.class);
      try {
        client.genericKubernetesResources(in.apiVersion(), in.kind()).resource(r).create();
      } catch (RuntimeException e) {
        throw new IllegalStateException("cannot create " + in.describe() + " from " + in.source() + ": "
            + e.getMessage(), e);
      }
    }
  }
}
