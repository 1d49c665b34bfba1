package io.tailops.testkit.kube;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server process (etcd, kube-apiserver, kube-controller-manager) with its output in a log file, that never
 * outlives the JVM that started it.
 *
 * <p>The binary runs under a small {@code sh} watchdog that ends it when the watchdog's standard input closes, i.e.
 * when this JVM exits for any reason, including SIGKILL (a JVM shutdown hook does not run then). {@link #stop} sends
 * SIGTERM, waits, then SIGKILLs the binary and every descendant of the watchdog.
 */
final class ManagedProcess {

  private static final Logger log = LoggerFactory.getLogger(ManagedProcess.class);

  /** Runs "$@" and ends it on TERM/INT or when standard input reaches end of file; exits with its exit code. */
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

  private final String name;
  private final Path binary;
  private final Path logFile;
  private final Process process;
  private final long startedAt = System.nanoTime();
  private volatile boolean stopping;

  private ManagedProcess(String name, Path binary, Path logFile, Process process) {
    this.name = name;
    this.binary = binary;
    this.logFile = logFile;
    this.process = process;
  }

  /**
   * Starts {@code binary args} with its stdout and stderr appended to {@code logFile}.
   *
   * @param watchdog the watchdog script (see {@link #writeWatchdog})
   */
  static ManagedProcess start(String name, Path watchdog, Path binary, List<String> args, Path logFile) {
    List<String> cmd = new ArrayList<>();
    cmd.add("/bin/sh");
    cmd.add(watchdog.toString());
    cmd.add(binary.toString());
    cmd.addAll(args);
    try {
      Files.createDirectories(logFile.getParent());
      Files.writeString(logFile, "# " + String.join(" ", cmd.subList(2, cmd.size())) + "\n",
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      // stdin stays a pipe from this JVM: the watchdog's end-of-file signal.
      Process p = pb.start();
      log.debug("started {} (pid {}): {}", name, p.pid(), cmd);
      ManagedProcess mp = new ManagedProcess(name, binary, logFile, p);
      p.onExit().thenAccept(ended -> {
        if (!mp.stopping) {
          log.error("{} exited unexpectedly with code {}; last lines of {}:\n{}", name, ended.exitValue(), logFile,
              mp.logTail(30));
        }
      });
      return mp;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + binary + ")", e);
    }
  }

  static Path writeWatchdog(Path dir) {
    try {
      Path f = dir.resolve("watchdog.sh");
      Files.writeString(f, WATCHDOG);
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String name() {
    return name;
  }

  Path logFile() {
    return logFile;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Exit code, or -1 while running. */
  int exitCode() {
    return process.isAlive() ? -1 : process.exitValue();
  }

  Duration uptime() {
    return Duration.ofNanos(System.nanoTime() - startedAt);
  }

  /** Sends SIGTERM and waits up to {@code grace}; then SIGKILLs. Ends every descendant. Idempotent. */
  void stop(Duration grace) {
    stopping = true;
    List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
    if (process.isAlive()) {
      process.destroy(); // TERM to the watchdog, which forwards it to the binary
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("{} did not stop within {}; killing it", name, grace);
          family.forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        family.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    }
    closeStdin();
    for (ProcessHandle h : family) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
    log.debug("{} stopped (exit {})", name, process.isAlive() ? "?" : process.exitValue());
  }

  /** SIGKILLs the binary itself (a crash); the watchdog then exits with 137. */
  void kill() {
    stopping = true;
    List<ProcessHandle> family = process.descendants().toList();
    family.stream()
        .filter(h -> h.info().command().map(c -> c.endsWith(binary.getFileName().toString())).orElse(false))
        .forEach(ProcessHandle::destroyForcibly);
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stop(Duration.ofSeconds(5));
  }

  private void closeStdin() {
    try {
      OutputStream in = process.getOutputStream();
      in.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  /** The last {@code lines} lines of the log file. */
  String logTail(int lines) {
    try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - 16_384);
      byte[] buf = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(buf);
      String[] all = new String(buf, StandardCharsets.UTF_8).split("\n");
      int start = Math.max(0, all.length - lines);
      return String.join("\n", java.util.Arrays.copyOfRange(all, start, all.length));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  @Override
  public String toString() {
    return name + "[pid " + process.pid() + (process.isAlive() ? "" : ", exited " + process.exitValue()) + "]";
  }
}
