package io.tailops.controlplane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * <b>TEST-ONLY</b> fault hook at the operator's external side effects: every write of its Kubernetes client (create,
 * update, patch, delete; not Leases and Events) and every non-GET call of its Tailscale API client (key mints, device
 * deletes, token requests, …) passes here, before it is sent and after its answer arrived. Used by the reliability
 * suite {@code CrashPointsIT} to crash the operator at each of these points in turn (docs/reliability.md).
 *
 * <p>Off unless the environment variable {@value #ENV} (or the system property {@value #PROPERTY}) names a
 * directory; never set it in production. When off, {@link #ENABLED} is a {@code false} constant that every call site
 * tests first, so the hook costs nothing. When on, the directory holds:
 *
 * <ul>
 *   <li>{@code arm}, written by the test: one line, tab-separated: {@code <phase> record} (number the side effects and
 *       log them) or {@code <phase> crash <before|after> <k> <point>} (also halt the JVM at the k-th occurrence of
 *       {@code point}, before it is sent or right after its answer arrived). Occurrences are counted per point from
 *       the moment the line (its phase) changes; a missing file or another word disarms the hook.
 *   <li>{@code points.log}, appended by the hook: {@code <phase> <k> <point> <target> <status>} for every answer.
 *   <li>{@code crashed}, written just before the halt: {@code <phase> <when> <k> <point> <target> <status>}.
 * </ul>
 *
 * <p>A point names the kind of call, not the object: {@code create statefulsets}, {@code patch services},
 * {@code update services/status}, {@code POST /api/v2/tailnet/-/keys}. The halt is {@link Runtime#halt}: like a
 * SIGKILL, no shutdown hook, finally block or in-flight call completes.
 */
public final class CrashPoints {
  /** The environment variable naming the hook's directory (test-only). */
  public static final String ENV = "TSOP_TEST_CRASH_POINTS";
  /** The system property naming the hook's directory (test-only), for an operator in the test's own JVM. */
  public static final String PROPERTY = "tsop.test.crashPoints";
  private static final Path DIR = dir();
  /** Whether the hook is on: only when {@value #ENV} or {@value #PROPERTY} is set (never in production). */
  public static final boolean ENABLED = DIR != null;

  private static String armLine;
  private static final Map<String, Integer> BEFORE = new HashMap<>();
  private static final Map<String, Integer> AFTER = new HashMap<>();

  private CrashPoints() {
  }

  private static Path dir() {
    String d = System.getProperty(PROPERTY);
    if (d == null || d.isBlank()) {
      d = System.getenv(ENV);
    }
    return d == null || d.isBlank() ? null : Path.of(d);
  }

  /** Before a side effect is sent. Call only when {@link #ENABLED}. */
  public static void before(String point, String target) {
    if (ENABLED) {
      hit(false, point, target, 0);
    }
  }

  /** After a side effect's answer arrived (any status). Call only when {@link #ENABLED}. */
  public static void after(String point, String target, int status) {
    if (ENABLED) {
      hit(true, point, target, status);
    }
  }

  private static synchronized void hit(boolean after, String point, String target, int status) {
    String line;
    try {
      line = Files.readString(DIR.resolve("arm"), StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      line = "";
    } catch (IOException e) {
      return;
    }
    if (!line.equals(armLine)) {
      armLine = line;
      BEFORE.clear();
      AFTER.clear();
    }
    String[] f = line.split("\t");
    if (f.length < 2 || !(f[1].equals("record") || f[1].equals("crash"))) {
      return;
    }
    int k = (after ? AFTER : BEFORE).merge(point, 1, Integer::sum);
    String entry = f[0] + "\t" + k + "\t" + point + "\t" + target + "\t" + status + "\n";
    if (after) {
      append("points.log", entry);
    }
    if (f[1].equals("crash") && f.length >= 5 && f[2].equals(after ? "after" : "before")
        && f[3].equals(Integer.toString(k)) && f[4].equals(point)) {
      append("crashed", f[0] + "\t" + f[2] + "\t" + k + "\t" + point + "\t" + target + "\t" + status + "\n");
      Runtime.getRuntime().halt(137);
    }
  }

  private static void append(String file, String text) {
    try {
      Files.writeString(DIR.resolve(file), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      // the test will see the entry missing
    }
  }
}
