package io.tailops.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short-lived command to its end (host tools such as {@code ip}, a program's CLI): only the given environment,
 * standard input closed, both outputs captured, killed with its children after a timeout. Long-running programs use
 * the watched-process launchers instead.
 */
public final class OneShotCommand {

  private OneShotCommand() {
  }

  /**
   * What a command did. A command that could not be started at all exits 127 (as in a shell), with the reason in
   * {@code stderr}; one that timed out exits -1.
   */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** Throws with the command and its output unless it exited 0. */
    public Result require() {
      if (!ok()) {
        throw new IllegalStateException("`" + String.join(" ", command) + "` exited " + exitCode + ": "
            + (stderr + " " + stdout).strip());
      }
      return this;
    }
  }

  /**
   * Runs {@code command} with exactly {@code env} as its environment (give it a {@code PATH}), in {@code workDir} (null:
   * this JVM's), and waits at most {@code timeout}.
   */
  public static Result run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
    List<String> cmd = List.copyOf(command);
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd));
    if (workDir != null) {
      pb.directory(workDir.toFile());
    }
    pb.environment().clear();
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return new Result(cmd, -1, out.getNow(""), "timed out after " + timeout + "; " + err.getNow(""));
      }
      return new Result(cmd, p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    } catch (IOException e) {
      return new Result(cmd, 127, "", "cannot run " + cmd.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the output of " + cmd.get(0), e);
    }
  }

  /** Whether this JVM runs as root (uid 0). */
  public static boolean isRoot() {
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return uid instanceof Integer i && i == 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
