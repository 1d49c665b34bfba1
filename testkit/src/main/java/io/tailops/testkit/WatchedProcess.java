package io.tailops.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-running program (etcd, kube-apiserver, headscale, tailscaled, containerboot, ...) with its output appended
 * to a log file, a clean environment, and a guarantee that it never outlives the JVM that started it.
 *
 * <p>The program runs under a small {@code sh} watchdog that sends it SIGTERM when the watchdog's standard input (a pipe from this JVM) closes, i.e. when the JVM exits for any
 * reason, SIGKILL included. {@link #stop(Duration)} sends SIGTERM, waits, then SIGKILLs the program and every
 * descendant (containerboot's tailscaled, say).
 *
 * <p>The environment is <b>not</b> inherited: the program gets {@code PATH} (given or {@code /usr/local/bin:/usr/bin:
 * /bin}; {@code /usr/bin:/bin} is always appended so the watchdog finds {@code cat}) plus exactly the variables passed.
 * A stray {@code PORT}, {@code TS_AUTHKEY} or {@code KUBERNETES_SERVICE_HOST} in the test JVM's environment would
 * otherwise change what tailscaled or containerboot do.
 */
public final class WatchedProcess {

  private static final Logger log = LoggerFactory.getLogger(WatchedProcess.class);

  /** Runs "$@"; ends it on TERM/INT or when standard input reaches end of file; exits with its exit code. */
  static final String WATCHDOG = """
      #!/bin/sh
      # Runs "$@"; ends it when this script's standard input closes (the JVM that started it is gone) or on TERM/INT.
      exec 3<&0
      "$@" </dev/null 3<&- &
      child=$!
      ( cat <&3 >/dev/null 2>&1; kill -TERM "$child" 2>/dev/null ) &
      exec 3<&-
      trap 'kill -TERM "$child" 2>/dev/null' TERM INT
      while :; do
        wait "$child"
        rc=$?
        kill -0 "$child" 2>/dev/null || break
      done
      exit "$rc"
      """;

  private static final String BASE_PATH = "/usr/bin:/bin";
  private static volatile Path watchdogFile;

  private final String name;
  private final List<String> command;
  private final Path logFile;
  private final Process process;
  private volatile boolean stopping;

  private WatchedProcess(String name, List<String> command, Path logFile, Process process) {
    this.name = name;
    this.command = command;
    this.logFile = logFile;
    this.process = process;
  }

  /**
   * Starts {@code command} (program first) in {@code workDir} with only the given environment, its standard output
   * and error appended to {@code logFile} (after a header line naming the command; pass {@code redactInHeader} values
   * to hide, e.g. keys on the command line).
   */
  public static WatchedProcess start(String name, List<String> command, Map<String, String> env, Path workDir,
      Path logFile, String... redactInHeader) {
    Objects.requireNonNull(command, "command");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add("/bin/sh");
    cmd.add(watchdog().toString());
    cmd.addAll(command);
    try {
      Files.createDirectories(logFile.toAbsolutePath().getParent());
      String header = "# " + String.join(" ", command);
      for (String secret : redactInHeader) {
        if (secret != null && !secret.isEmpty()) {
          header = header.replace(secret, "<redacted>");
        }
      }
      Files.writeString(logFile, header + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(cmd)
          .directory(workDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      Map<String, String> pe = pb.environment();
      pe.clear();
      pe.putAll(cleanEnv(env));
      // stdin stays a pipe from this JVM: the watchdog's end-of-file signal.
      Process p = pb.start();
      log.debug("started {} (watchdog pid {}): {}", name, p.pid(), header);
      WatchedProcess wp = new WatchedProcess(name, List.copyOf(command), logFile, p);
      p.onExit().thenAccept(ended -> {
        if (!wp.stopping) {
          log.warn("{} exited unexpectedly with code {}; last lines of {}:\n{}", name, ended.exitValue(), logFile,
              wp.logTail(30));
        }
      });
      return wp;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + command.get(0) + ")", e);
    }
  }

  /** The environment a program gets: {@code env} plus a PATH that always ends with {@code /usr/bin:/bin}. */
  public static Map<String, String> cleanEnv(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>(env);
    String path = out.getOrDefault("PATH", "/usr/local/bin");
    List<String> parts = new ArrayList<>(Arrays.asList(path.split(":")));
    for (String p : BASE_PATH.split(":")) {
      if (!parts.contains(p)) {
        parts.add(p);
      }
    }
    out.put("PATH", String.join(":", parts));
    return out;
  }

  private static Path watchdog() {
    Path f = watchdogFile;
    if (f != null && Files.isRegularFile(f)) {
      return f;
    }
    synchronized (WatchedProcess.class) {
      if (watchdogFile == null || !Files.isRegularFile(watchdogFile)) {
        try {
          Path tmp = Files.createTempFile("tsop-watchdog-", ".sh");
          Files.writeString(tmp, WATCHDOG);
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
          tmp.toFile().deleteOnExit();
          watchdogFile = tmp;
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write the process watchdog script", e);
        }
      }
      return watchdogFile;
    }
  }

  public String name() {
    return name;
  }

  public Path logFile() {
    return logFile;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Exit code, or -1 while running. */
  public int exitCode() {
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** The program's own process (the watchdog's child), if it is running. */
  public Optional<ProcessHandle> program() {
    return process.children().filter(ProcessHandle::isAlive)
        .filter(h -> h.info().command().map(c -> !c.endsWith("/sh") && !c.endsWith("/dash") && !c.endsWith("/bash"))
            .orElse(true))
        .findFirst()
        .or(() -> process.children().filter(ProcessHandle::isAlive).findFirst());
  }

  /** Every live process below the watchdog (the program, its children, the watchdog's helper). */
  public List<ProcessHandle> descendants() {
    return process.descendants().filter(ProcessHandle::isAlive).toList();
  }

  /** Sends a signal ({@code HUP}, {@code TERM}, ...) to the program itself. */
  public void signal(String signal) {
    ProcessHandle p = program().orElseThrow(() -> new IllegalStateException(name + " is not running"));
    try {
      Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
      String out = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed: " + out.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until a line of the log satisfies {@code condition}.
   *
   * @throws IllegalStateException if the process exits first or the timeout passes (with the end of the log)
   */
  public String awaitLogLine(Predicate<String> condition, String what, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<String> line = findLogLine(condition);
      if (line.isPresent()) {
        return line.get();
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " exited with code " + process.exitValue() + " before " + what
            + "; last lines of " + logFile + ":\n" + logTail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what + " from " + name
            + "; last lines of " + logFile + ":\n" + logTail(40));
      }
      sleep(200);
    }
  }

  /** The first log line satisfying {@code condition}, if any. */
  public Optional<String> findLogLine(Predicate<String> condition) {
    try (var lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
      return lines.filter(condition).findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  /** Sends SIGTERM and waits up to {@code grace}; then SIGKILLs. Ends every descendant. Idempotent. */
  public void stop(Duration grace) {
    stopping = true;
    List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
    if (process.isAlive()) {
      process.destroy(); // TERM to the watchdog, which forwards it to the program
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("{} did not stop within {}; killing it", name, grace);
          killAll(family);
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        killAll(family);
        process.destroyForcibly();
      }
    }
    closeStdin();
    // Anything the program started and left behind (it should have ended them itself).
    for (ProcessHandle h : family) {
      if (h.isAlive()) {
        log.debug("{}: ending leftover process {} {}", name, h.pid(), h.info().command().orElse("?"));
        h.destroyForcibly();
      }
    }
    log.debug("{} stopped (exit {})", name, process.isAlive() ? "?" : process.exitValue());
  }

  /** SIGKILLs the program and everything below it at once (a crash, or a node losing power). */
  public void kill() {
    stopping = true;
    killAll(process.descendants().toList());
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeStdin();
  }

  private static void killAll(List<ProcessHandle> family) {
    family.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : family) {
      try {
        h.onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        // best effort
      }
    }
  }

  private void closeStdin() {
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  /** The last {@code lines} lines of the log file. */
  public String logTail(int lines) {
    try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - 32_768);
      byte[] buf = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(buf);
      String[] all = new String(buf, StandardCharsets.UTF_8).split("\n");
      int start = Math.max(0, all.length - lines);
      return String.join("\n", Arrays.copyOfRange(all, start, all.length));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return name + "[pid " + process.pid() + (process.isAlive() ? "" : ", exited " + process.exitValue()) + ", "
        + command.get(0) + "]";
  }
}
