package io.tailops.testkit.podrunner;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One-shot host commands ({@code ip}, {@code sysctl}, ...) with a timeout, a clean environment and their output. */
final class Host {

  static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private Host() {
  }

  /** The result of a command. */
  record Result(List<String> command, int exitCode, String stdout, String stderr) {
    boolean ok() {
      return exitCode == 0;
    }

    /** Throws with the command and its standard error unless it exited 0. */
    Result require() {
      if (!ok()) {
        throw new IllegalStateException("`" + String.join(" ", command) + "` exited " + exitCode + ": "
            + (stderr + " " + stdout).strip());
      }
      return this;
    }
  }

  static Result run(String... command) {
    return run(List.of(command), Map.of(), Duration.ofSeconds(30));
  }

  /** Runs {@code command} with {@code PATH} plus {@code env} only, standard input closed. */
  static Result run(List<String> command, Map<String, String> env, Duration timeout) {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command));
    pb.environment().clear();
    pb.environment().put("PATH", PATH);
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
        return new Result(command, -1, out.getNow(""), "timed out after " + timeout + "; " + err.getNow(""));
      }
      return new Result(command, p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    } catch (IOException e) {
      return new Result(command, 127, "", "cannot run " + command.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command.get(0), e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the output of " + command.get(0), e);
    }
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Whether an executable named {@code name} is on {@link #PATH}. */
  static boolean onPath(String name) {
    for (String dir : PATH.split(":")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return true;
      }
    }
    return false;
  }

  static boolean isRoot() {
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return uid instanceof Integer i && i == 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  static void writeString(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
