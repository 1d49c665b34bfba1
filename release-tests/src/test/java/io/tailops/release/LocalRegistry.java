package io.tailops.release;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailops.testkit.LoopbackPorts;
import io.tailops.testkit.WatchedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The distribution registry (the OCI registry server, built from its Go module by tools/build-binaries.sh --only
 * registry) on a free loopback port, storing in a temporary directory, plain HTTP, no authentication; and a small
 * client for what the tests read from it (manifests and blobs, by the OCI distribution API).
 */
final class LocalRegistry implements AutoCloseable {
  static final String INDEX = "application/vnd.oci.image.index.v1+json";
  static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final ObjectMapper JSON = new ObjectMapper();

  private final WatchedProcess process;
  private final int port;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private LocalRegistry(WatchedProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  static LocalRegistry start(Path dir) {
    try {
      int port = LoopbackPorts.tcp();
      Path storage = Files.createDirectories(dir.resolve("storage"));
      Path config = dir.resolve("config.yml");
      // Loopback only; no debug server; storage deletes allowed so the tests can clean up by hand if needed.
      Files.writeString(config, """
          version: 0.1
          log:
            level: info
          storage:
            filesystem:
              rootdirectory: %s
            delete:
              enabled: true
          http:
            addr: 127.0.0.1:%d
          """.formatted(storage, port));
      WatchedProcess p = WatchedProcess.start("registry", List.of(Repo.tool("registry").toString(), "serve",
          config.toString()), Map.of("OTEL_TRACES_EXPORTER", "none"), dir, dir.resolve("registry.log"));
      LocalRegistry r = new LocalRegistry(p, port);
      Instant deadline = Instant.now().plusSeconds(30);
      while (true) {
        try {
          if (r.get("/v2/", "application/json").statusCode() == 200) {
            return r;
          }
        } catch (IOException e) {
          // not listening yet
        }
        if (!p.isAlive() || Instant.now().isAfter(deadline)) {
          throw new IllegalStateException("the registry did not start; its log:\n" + p.logTail(30));
        }
        WatchedProcess.sleep(200);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** host:port, as in image references (127.0.0.1:5000/tailops/tailscale-operator:0.1.0). */
  String host() {
    return "127.0.0.1:" + port;
  }

  HttpResponse<byte[]> get(String path, String accept) throws IOException {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://" + host() + path)).header("Accept", accept)
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** A manifest (image index or image manifest) by tag or digest; fails unless the registry has it. */
  JsonNode manifest(String repository, String reference) {
    try {
      HttpResponse<byte[]> r = get("/v2/" + repository + "/manifests/" + reference, INDEX + ", " + MANIFEST);
      if (r.statusCode() != 200) {
        throw new AssertionError("GET manifest " + repository + ":" + reference + " -> " + r.statusCode() + " "
            + new String(r.body()));
      }
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The digest the registry reports for a manifest (Docker-Content-Digest). */
  String digest(String repository, String reference) {
    try {
      HttpResponse<byte[]> r = get("/v2/" + repository + "/manifests/" + reference, INDEX + ", " + MANIFEST);
      return r.headers().firstValue("Docker-Content-Digest").orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] blob(String repository, String digest) {
    try {
      HttpResponse<byte[]> r = get("/v2/" + repository + "/blobs/" + digest, "*/*");
      if (r.statusCode() != 200) {
        throw new AssertionError("GET blob " + repository + "@" + digest + " -> " + r.statusCode());
      }
      return r.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String logTail() {
    return process.logTail(40);
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(5));
  }
}
