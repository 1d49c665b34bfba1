package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.headscale.TailnetEnv;
import io.tailops.testkit.WatchedProcess;
import io.tailops.testkit.podrunner.LocalPod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Checks that what the operator generates is accepted <i>and understood</i> by the real binaries (tailscale
 * v1.94.2), field by field, so that a drift in a field name, a value's type or the file format fails loudly:
 *
 * <ul>
 *   <li><b>tailscaled config</b> ({@code cap-<N>.hujson}): tailscaled loads it strictly (unknown fields, wrong types
 *       and a wrong {@code Version} are fatal); containerboot must pick {@code cap-107.hujson} for capability 131 and
 *       reach "Startup complete"; and every field the operator writes must show up in tailscaled's prefs with the same
 *       value ({@link #CONFIG_TO_PREFS}). A field the table does not know fails the check: the contract must be
 *       extended on purpose. Older files ({@code cap-95.hujson}) are loaded by a separate real tailscaled.</li>
 *   <li><b>serve config</b>: Go's JSON decoding ignores unknown fields, so acceptance alone proves little; the config
 *       tailscaled holds ({@code tailscale serve status --json}) must equal, as JSON, the operator's (with
 *       {@code ${TS_CERT_DOMAIN}} substituted as containerboot does).</li>
 *   <li><b>state Secret</b>: containerboot writes the keys the operator reads, in the format it parses.</li>
 * </ul>
 */
final class ProxyContract {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Every field the operator may write into a tailscaled config, and the prefs field it must set (null: none). */
  static final Map<String, String> CONFIG_TO_PREFS = Map.ofEntries(
      Map.entry("Version", ""),            // format marker, must be alpha0
      Map.entry("Locked", ""),             // not a pref: checked by `tailscale serve set-raw` being allowed
      Map.entry("AuthKey", ""),            // consumed at login; the operator removes it afterwards
      Map.entry("ServerURL", "ControlURL"),
      Map.entry("Hostname", "Hostname"),
      Map.entry("acceptDNS", "CorpDNS"),
      Map.entry("acceptRoutes", "RouteAll"),
      Map.entry("NoStatefulFiltering", "NoStatefulFiltering"),
      Map.entry("AppConnector", "AppConnector"),
      Map.entry("AdvertiseRoutes", "AdvertiseRoutes"),
      Map.entry("AdvertiseServices", "AdvertiseServices"));

  private ProxyContract() {
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  /**
   * containerboot chose the newest config the binary understands, tailscaled accepted it and reached Running, and
   * tailscaled's prefs reflect every field of the file.
   */
  static void assertTailscaledConfigUnderstood(LocalPod pod, Map<String, String> secret) {
    List<String> caps = secret.keySet().stream().filter(k -> k.matches("cap-\\d+\\.hujson")).sorted().toList();
    assertThat(caps).as("config files in the proxy Secret").contains("cap-107.hujson");
    String log = String.join("\n", pod.logLines());
    assertThat(log).contains("Using tailscaled config file \"" + pod.volumeDir("tailscaledconfig-0").orElseThrow()
        .resolve("cap-107.hujson") + "\" to match current capability version 131");
    assertThat(log).contains("Startup complete, waiting for shutdown signal");
    assertThat(log).doesNotContain("error reading config file").doesNotContain("invalid configuration");
    JsonNode prefs = json(pod.tailscale("debug", "prefs"));
    assertPrefsReflect(json(secret.get("cap-107.hujson")), prefs, "cap-107.hujson of " + pod.name());
  }

  /** Every field of {@code config} (a tailscaled config file) has the same value in {@code prefs}. */
  static void assertPrefsReflect(JsonNode config, JsonNode prefs, String what) {
    assertThat(config.path("Version").asText()).as(what + ": Version").isEqualTo("alpha0");
    List<String> problems = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String pref = CONFIG_TO_PREFS.get(f.getKey());
      if (pref == null) {
        problems.add("field " + f.getKey() + " is not in the contract (ProxyContract.CONFIG_TO_PREFS): check what "
            + "tailscaled does with it and add it");
        continue;
      }
      if (pref.isEmpty()) {
        continue;
      }
      JsonNode actual = prefs.get(pref);
      if (!sameValue(f.getValue(), actual)) {
        problems.add(f.getKey() + "=" + f.getValue() + " but tailscaled's " + pref + "=" + actual);
      }
    }
    if (!problems.isEmpty()) {
      fail(what + " is not understood by tailscaled as the operator means it:\n  " + String.join("\n  ", problems)
          + "\nconfig: " + config + "\nprefs: " + prefs);
    }
  }

  private static boolean sameValue(JsonNode expected, JsonNode actual) {
    if (actual == null || actual.isNull()) {
      return expected.isBoolean() && !expected.asBoolean() || expected.isArray() && expected.isEmpty();
    }
    if (expected.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        if (!sameValue(f.getValue(), actual.get(f.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (expected.isArray()) {
      return expected.equals(actual);
    }
    // opt.Bool prefs serialise as JSON booleans or strings depending on the field; compare the text
    return expected.asText().equals(actual.asText());
  }

  /**
   * Loads a config file the operator wrote (e.g. {@code cap-95.hujson}, which v1.94.2's containerboot does not pick)
   * into a separate real tailscaled and checks its prefs. The file must not hold an auth key any more (the operator
   * removes it once the proxy is logged in), so this tailscaled never registers a node.
   */
  static void assertConfigFileLoadsInTailscaled(String name, String content, TailnetBinaries binaries) {
    JsonNode config = json(content);
    assertThat(config.has("AuthKey")).as(name + " still carries an auth key").isFalse();
    Path dir;
    try {
      dir = Files.createTempDirectory(Path.of("/tmp"), "tsop-cfg-");
      Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
      Files.createDirectories(dir.resolve("state"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path socket = dir.resolve("ts.sock");
    Map<String, String> env = new LinkedHashMap<>(TailnetEnv.forNode(dir.resolve("state")));
    WatchedProcess p = WatchedProcess.start("tailscaled[" + name + "]", List.of(binaries.tailscaled().toString(),
        "--config=" + dir.resolve(name), "--statedir=" + dir.resolve("state"), "--socket=" + socket,
        "--tun=userspace-networking", "--port=0"), env, dir, dir.resolve("tailscaled.log"));
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      String prefs = null;
      while (prefs == null) {
        if (!p.isAlive()) {
          fail("tailscaled refused " + name + " (exit " + p.exitCode() + "):\n" + p.logTail(20));
        }
        if (System.nanoTime() > deadline) {
          fail("tailscaled with " + name + " never answered on its socket:\n" + p.logTail(20));
        }
        prefs = cli(binaries, socket, "debug", "prefs");
        if (prefs == null) {
          try {
            Thread.sleep(200);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      }
      assertPrefsReflect(config, json(prefs), name);
    } finally {
      p.stop(Duration.ofSeconds(10));
      try (var walk = Files.walk(dir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  private static String cli(TailnetBinaries binaries, Path socket, String... args) {
    List<String> cmd = new ArrayList<>(List.of(binaries.tailscale().toString(), "--socket=" + socket));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The serve config tailscaled holds equals the operator's ({@code ${TS_CERT_DOMAIN}} replaced by
   * {@code certDomain}), as JSON.
   */
  static void assertServeConfigHeld(LocalPod pod, String operatorJson, String certDomain) {
    JsonNode expected = json(operatorJson.replace("${TS_CERT_DOMAIN}", certDomain));
    JsonNode held = json(pod.tailscale("serve", "status", "--json"));
    assertThat(held).as("serve config held by tailscaled on " + pod.name() + " vs the operator's " + operatorJson)
        .isEqualTo(expected);
  }

  /**
   * Pushes the operator's serve config to tailscaled through LocalAPI ({@code tailscale serve set-raw}, which needs
   * {@code Locked:false} in the tailscaled config) and checks that it is held unchanged: for HTTPS configs, which
   * containerboot does not apply on a tailnet without certificates.
   */
  static void assertServeConfigAcceptedByLocalApi(LocalPod pod, String operatorJson, String certDomain) {
    String substituted = operatorJson.replace("${TS_CERT_DOMAIN}", certDomain);
    try {
      Path f = Files.createTempFile("tsop-serve-", ".json");
      Files.writeString(f, substituted);
      // the CLI reads set-raw's JSON from standard input
      ProcessBuilder pb = new ProcessBuilder(List.of("/bin/sh", "-c", "exec \"$0\" --socket=\"$1\" serve set-raw < \"$2\"",
          RealTailnet.env().pods().binaries().tailscale().toString(), pod.socket().toString(), f.toString()))
          .redirectErrorStream(true);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      Files.deleteIfExists(f);
      assertThat(p.exitValue()).as("tailscale serve set-raw: " + out).isZero();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    assertServeConfigHeld(pod, operatorJson, certDomain);
  }

  /** The state keys containerboot writes, in the formats the operator parses. */
  static void assertStateSecret(LocalPod pod, Map<String, String> secret, HeadscaleNode node, String fqdn,
      boolean serveProxy) {
    assertThat(secret.get("device_id")).as("device_id (node StableID = headscale id)").isEqualTo(node.id());
    assertThat(secret.get("device_fqdn")).as("device_fqdn with trailing dot").isEqualTo(fqdn + ".");
    JsonNode ips = json(secret.get("device_ips"));
    assertThat(ips.isArray()).as("device_ips is a JSON array").isTrue();
    List<String> list = new ArrayList<>();
    ips.forEach(n -> list.add(n.asText()));
    assertThat(list).isEqualTo(node.ipAddresses());
    assertThat(secret.get("tailscale_capver")).isEqualTo("131");
    assertThat(secret.get("pod_uid")).isEqualTo(pod.uid());
    assertThat(secret).containsKeys("_machinekey", "_profiles", "_current-profile");
    if (serveProxy) {
      assertThat(secret.get("https_endpoint")).as("no certificates on headscale").isEqualTo("no-https");
    }
    Set<String> operatorKeys = Set.of("cap-95.hujson", "cap-107.hujson");
    assertThat(secret.keySet()).containsAll(operatorKeys);
  }

  static ObjectNode copy(JsonNode n) {
    return (ObjectNode) n.deepCopy();
  }
}
