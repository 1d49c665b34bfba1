package io.tailops.testkit.kube;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the Go-built Kubernetes binaries are. {@code tools/build-binaries.sh} builds them into
 * {@code <cache>/k8s/<version>-<os>-<arch>/} ({@code kube-apiserver}, {@code etcd}, {@code kubectl},
 * {@code kube-controller-manager}), which is also the layout fabric8 kube-api-test reads in offline mode.
 *
 * <p>The cache folder is, in order: the system property {@code tsop.binaries}, the environment variable
 * {@code TSOP_BINARIES}, {@code KUBE_API_TEST_DIR}, then {@code ~/.cache/tailscale-operator}. The version is the
 * system property {@code tsop.kube.version}, the environment variable {@code TSOP_KUBE_VERSION}, the
 * {@code k8s.io/kubernetes} pin in {@code tools/testbin/k8s/go.mod} when the repository is found above the working
 * folder, then {@link #DEFAULT_VERSION}.
 */
public record KubeBinaries(Path dir, String version) {

  /** The Kubernetes release pinned in {@code tools/testbin/k8s/go.mod}. */
  public static final String DEFAULT_VERSION = "1.34.4";

  /** The command that builds the binaries, run from the repository root. */
  public static final String BUILD_COMMAND = "bash tools/build-binaries.sh";

  public static final String KUBE_APISERVER = "kube-apiserver";
  public static final String ETCD = "etcd";
  public static final String KUBECTL = "kubectl";
  public static final String KUBE_CONTROLLER_MANAGER = "kube-controller-manager";

  /** Finds the binaries from the system properties and environment (see the class comment); does not check them. */
  public static KubeBinaries locate() {
    String version = firstNonBlank(System.getProperty("tsop.kube.version"), System.getenv("TSOP_KUBE_VERSION"),
        pinnedVersion().orElse(DEFAULT_VERSION));
    return new KubeBinaries(cacheRoot().resolve("k8s").resolve(version + "-" + platform()), version);
  }

  /**
   * The {@code k8s.io/kubernetes} version required by {@code tools/testbin/k8s/go.mod}, found by walking up from the
   * working folder (Maven runs tests in the module's folder), so that bumping the pin needs no Java change.
   */
  public static Optional<String> pinnedVersion() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
      Path gomod = dir.resolve("tools/testbin/k8s/go.mod");
      if (Files.isRegularFile(gomod)) {
        try {
          Matcher m = PIN.matcher(Files.readString(gomod));
          return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (java.io.IOException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  private static final Pattern PIN =
      Pattern.compile("(?m)^\\s*(?:require\\s+)?k8s\\.io/kubernetes\\s+v(\\d+\\.\\d+\\.\\d+)\\s*$");

  /** The cache root that {@code tools/build-binaries.sh} writes to. */
  public static Path cacheRoot() {
    String root = firstNonBlank(System.getProperty("tsop.binaries"), System.getenv("TSOP_BINARIES"),
        System.getenv("KUBE_API_TEST_DIR"), null);
    return root != null ? Path.of(root) : Path.of(System.getProperty("user.home"), ".cache", "tailscale-operator");
  }

  /** {@code linux-amd64} and the like, named as kube-api-test names them. */
  public static String platform() {
    String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
    arch = switch (arch) {
      case "aarch64", "arm64" -> "arm64";
      case "ppc64", "ppc64le" -> "ppc64le";
      default -> "amd64";
    };
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    if (os.contains("mac")) {
      os = "darwin";
    } else if (os.contains("win")) {
      os = "windows";
    }
    return os + "-" + arch;
  }

  public Path kubeApiServer() {
    return dir.resolve(KUBE_APISERVER);
  }

  public Path etcd() {
    return dir.resolve(ETCD);
  }

  public Path kubectl() {
    return dir.resolve(KUBECTL);
  }

  public Path kubeControllerManager() {
    return dir.resolve(KUBE_CONTROLLER_MANAGER);
  }

  /**
   * Throws an {@link IllegalStateException} naming every missing binary and the command that builds them.
   *
   * @param names the binaries needed, e.g. {@link #KUBE_APISERVER}
   */
  public KubeBinaries require(String... names) {
    List<String> missing = new ArrayList<>();
    for (String name : names) {
      Path p = dir.resolve(name);
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        missing.add(p.toString());
      }
    }
    if (!missing.isEmpty()) {
      StringBuilder msg = new StringBuilder("Missing Kubernetes test binaries (v").append(version).append("): ")
          .append(String.join(", ", missing))
          .append(". Build them from the repository root with: ").append(BUILD_COMMAND)
          .append(" (builds from the Go modules in tools/testbin into ").append(cacheRoot())
          .append("; a few minutes on a cold Go build cache).");
      Path k8s = dir.getParent();
      if (Files.isDirectory(k8s)) {
        try (Stream<Path> s = Files.list(k8s)) {
          List<String> others = s.map(p -> p.getFileName().toString()).sorted().toList();
          if (!others.isEmpty()) {
            msg.append(" Versions present in ").append(k8s).append(": ").append(others)
                .append(" (select one with -Dtsop.kube.version or TSOP_KUBE_VERSION).");
          }
        } catch (java.io.IOException ignored) {
          // only a hint
        }
      }
      throw new IllegalStateException(msg.toString());
    }
    return this;
  }

  private static String firstNonBlank(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }
}
