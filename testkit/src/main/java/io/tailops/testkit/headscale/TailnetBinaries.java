package io.tailops.testkit.headscale;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.tailops.testkit.kube.KubeBinaries;

/**
 * Where the Go-built tailnet programs are. {@code tools/build-binaries.sh} builds them into the same cache as the
 * Kubernetes binaries ({@link KubeBinaries#cacheRoot()}):
 * <ul>
 *   <li>{@code <cache>/tailscale/<tailscale.com version>-<os>-<arch>/} {@code containerboot}, {@code tailscaled},
 *       {@code tailscale} (group {@code tailscale}, module {@code tools/tailscale}, build tags
 *       {@code ts_kube,ts_package_container} as in the official image);</li>
 *   <li>{@code <cache>/headscale/<headscale version>-<os>-<arch>/headscale} (group {@code headscale}, module
 *       {@code tools/headscale}).</li>
 * </ul>
 *
 * <p>Each folder is, in order: the system property ({@code tsop.tailscale.dir}, {@code tsop.headscale.dir}), the
 * environment variable printed by the build script ({@code TSOP_TAILSCALE_BIN_DIR}, {@code TSOP_HEADSCALE_BIN_DIR}),
 * else {@code <cache>/<group>/<version>-<platform>}. The version is the system property
 * ({@code tsop.tailscale.version}, {@code tsop.headscale.version}), the environment variable
 * ({@code TSOP_TAILSCALE_VERSION}, {@code TSOP_HEADSCALE_VERSION}), the pin in {@code tools/<group>/go.mod} when the
 * repository is found above the working folder, then the defaults below.
 *
 * @param tailscaleDir folder with {@code containerboot}, {@code tailscaled}, {@code tailscale}
 * @param tailscaleVersion e.g. {@code 1.94.2}
 * @param headscaleDir folder with {@code headscale}
 * @param headscaleVersion e.g. {@code 0.29.2}
 */
public record TailnetBinaries(Path tailscaleDir, String tailscaleVersion, Path headscaleDir, String headscaleVersion) {

  /** The {@code tailscale.com} release pinned in {@code tools/tailscale/go.mod} (the proxy image's version). */
  public static final String DEFAULT_TAILSCALE_VERSION = "1.94.2";
  /** The {@code github.com/juanfont/headscale} release pinned in {@code tools/headscale/go.mod}. */
  public static final String DEFAULT_HEADSCALE_VERSION = "0.29.2";

  /** The command that builds the binaries, run from the repository root. */
  public static final String BUILD_COMMAND = "bash tools/build-binaries.sh --only tailscale,headscale";

  public static final String CONTAINERBOOT = "containerboot";
  public static final String TAILSCALED = "tailscaled";
  public static final String TAILSCALE = "tailscale";
  public static final String HEADSCALE = "headscale";
  /** The ts.net nameserver of a DNSConfig (image tailscale/k8s-nameserver), built into the tailscale folder. */
  public static final String K8S_NAMESERVER = "k8s-nameserver";

  /** Finds the binaries from the system properties and environment (see the class comment); does not check them. */
  public static TailnetBinaries locate() {
    String tsVersion = firstNonBlank(System.getProperty("tsop.tailscale.version"),
        System.getenv("TSOP_TAILSCALE_VERSION"),
        pinnedVersion("tools/tailscale/go.mod", "tailscale.com").orElse(DEFAULT_TAILSCALE_VERSION));
    String hsVersion = firstNonBlank(System.getProperty("tsop.headscale.version"),
        System.getenv("TSOP_HEADSCALE_VERSION"),
        pinnedVersion("tools/headscale/go.mod", "github.com/juanfont/headscale").orElse(DEFAULT_HEADSCALE_VERSION));
    Path cache = KubeBinaries.cacheRoot();
    String platform = KubeBinaries.platform();
    String tsDir = firstNonBlank(System.getProperty("tsop.tailscale.dir"), System.getenv("TSOP_TAILSCALE_BIN_DIR"),
        cache.resolve("tailscale").resolve(tsVersion + "-" + platform).toString());
    String hsDir = firstNonBlank(System.getProperty("tsop.headscale.dir"), System.getenv("TSOP_HEADSCALE_BIN_DIR"),
        cache.resolve("headscale").resolve(hsVersion + "-" + platform).toString());
    return new TailnetBinaries(Path.of(tsDir), tsVersion, Path.of(hsDir), hsVersion);
  }

  /**
   * The version a {@code go.mod} under the repository requires for {@code module}, found by walking up from the
   * working folder (Maven runs tests in the module's folder).
   */
  public static Optional<String> pinnedVersion(String gomodPath, String module) {
    Pattern pin = Pattern.compile(
        "(?m)^\\s*(?:require\\s+)?" + Pattern.quote(module) + "\\s+v(\\d+\\.\\d+\\.\\d+)\\s*$");
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
      Path gomod = dir.resolve(gomodPath);
      if (Files.isRegularFile(gomod)) {
        try {
          Matcher m = pin.matcher(Files.readString(gomod));
          return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  public Path containerboot() {
    return tailscaleDir.resolve(CONTAINERBOOT);
  }

  public Path tailscaled() {
    return tailscaleDir.resolve(TAILSCALED);
  }

  public Path tailscale() {
    return tailscaleDir.resolve(TAILSCALE);
  }

  public Path headscale() {
    return headscaleDir.resolve(HEADSCALE);
  }

  /** {@code tailscale.com/cmd/k8s-nameserver} of the same release (tools/k8s-nameserver). */
  public Path k8sNameserver() {
    return tailscaleDir.resolve(K8S_NAMESERVER);
  }

  /** Throws an {@link IllegalStateException} naming every missing tailscale binary and the command that builds it. */
  public TailnetBinaries requireTailscale() {
    return require(List.of(containerboot(), tailscaled(), tailscale()), "tailscale v" + tailscaleVersion,
        BUILD_COMMAND, "tools/tailscale and tools/headscale");
  }

  /** Throws an {@link IllegalStateException} if the nameserver binary is missing, naming the build command. */
  public TailnetBinaries requireK8sNameserver() {
    return require(List.of(k8sNameserver()), "k8s-nameserver v" + tailscaleVersion,
        "bash tools/build-binaries.sh --only k8s-nameserver", "tools/k8s-nameserver");
  }

  /** Throws an {@link IllegalStateException} if the headscale binary is missing, naming the build command. */
  public TailnetBinaries requireHeadscale() {
    return require(List.of(headscale()), "headscale v" + headscaleVersion, BUILD_COMMAND,
        "tools/tailscale and tools/headscale");
  }

  private TailnetBinaries require(List<Path> paths, String what, String buildCommand, String modules) {
    List<String> missing = new ArrayList<>();
    for (Path p : paths) {
      if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
        missing.add(p.toString());
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("Missing " + what + " test binaries: " + String.join(", ", missing)
          + ". Build them from the repository root with: " + buildCommand + " (from the Go modules in " + modules
          + " into " + KubeBinaries.cacheRoot() + "; several minutes on a cold Go build cache).");
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
