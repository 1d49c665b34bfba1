package io.tailops.testkit.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.tailops.testkit.OneShotCommand;

/** Host commands ({@code ip}, {@code sysctl}, ...) with a fixed system {@code PATH}, a timeout and their output. */
final class Host {

  static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private Host() {
  }

  static OneShotCommand.Result run(String... command) {
    return run(List.of(command), Map.of(), Duration.ofSeconds(30));
  }

  /** Runs {@code command} with {@code PATH} plus {@code env} only, standard input closed. */
  static OneShotCommand.Result run(List<String> command, Map<String, String> env, Duration timeout) {
    Map<String, String> full = new LinkedHashMap<>();
    full.put("PATH", PATH);
    full.putAll(env);
    return OneShotCommand.run(command, full, null, timeout);
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
