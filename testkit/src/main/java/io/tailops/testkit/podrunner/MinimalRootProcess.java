package io.tailops.testkit.podrunner;

import io.tailops.testkit.WatchedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's program that is not containerboot (for example the ts.net nameserver of a DNSConfig), run the way a
 * container runtime would run a static binary from a scratch image: in a private mount namespace, chrooted into a root
 * folder of its own that holds only the program (at {@code /<program name>}) and the pod's volume mounts at their mount
 * paths ({@code /config} for the nameserver's records ConfigMap, in the kubelet's atomic layout, so file watches see
 * updates as in a cluster). Nothing is mounted outside the process's namespace and nothing is created on the host
 * beyond the pod's own folder; the mounts go when the process ends. Needs root (mount namespace and chroot).
 */
final class MinimalRootProcess implements ContainerProcess {
  private final String name;
  private final Path program;
  private final List<String> args;
  private final Map<String, String> env;
  private final Map<String, Path> mounts;
  private final Path workDir;
  private final Path logFile;
  private final List<String> commandPrefix;
  private WatchedProcess process;

  /**
   * @param mounts mount path inside the root (absolute) → the folder that holds the volume
   * @param commandPrefix e.g. {@code ip netns exec <ns>} to run it in the pod's network namespace
   */
  MinimalRootProcess(String name, Path program, List<String> args, Map<String, String> env, Map<String, Path> mounts,
      Path workDir, Path logFile, List<String> commandPrefix) {
    this.name = name;
    this.program = program;
    this.args = List.copyOf(args);
    this.env = new LinkedHashMap<>(env);
    this.mounts = new LinkedHashMap<>(mounts);
    this.workDir = workDir;
    this.logFile = logFile;
    this.commandPrefix = List.copyOf(commandPrefix);
  }

  /** The folder the program sees as {@code /}. */
  Path root() {
    return workDir.resolve("root");
  }

  @Override
  public synchronized void start() {
    try {
      Path root = root();
      Files.createDirectories(root);
      StringBuilder script = new StringBuilder("""
          #!/bin/sh
          # Runs in a private mount namespace: the pod's volumes and the program appear inside a root folder of
          # their own, then the program runs chrooted there (a static binary from a scratch image needs nothing else).
          set -eu
          """);
      for (Map.Entry<String, Path> m : mounts.entrySet()) {
        Path target = root.resolve(m.getKey().replaceFirst("^/+", ""));
        Files.createDirectories(target);
        script.append(shq(hostProgram("mount"))).append(" --bind ").append(shq(m.getValue().toString())).append(' ')
            .append(shq(target.toString())).append('\n');
      }
      Path inRoot = root.resolve(program.getFileName().toString());
      if (!Files.exists(inRoot)) {
        Files.createFile(inRoot);
      }
      script.append(shq(hostProgram("mount"))).append(" --bind ").append(shq(program.toString())).append(' ')
          .append(shq(inRoot.toString()))
          .append('\n');
      script.append("exec ").append(shq(hostProgram("chroot"))).append(' ').append(shq(root.toString())).append(' ')
          .append(shq("/" + program.getFileName()));
      for (String a : args) {
        script.append(' ').append(shq(a));
      }
      script.append('\n');
      Path scriptFile = workDir.resolve("run.sh");
      Files.writeString(scriptFile, script);
      List<String> cmd = new ArrayList<>(commandPrefix);
      cmd.addAll(List.of("unshare", "--mount", "--propagation", "private", "/bin/sh", scriptFile.toString()));
      process = WatchedProcess.start(name, cmd, env, workDir, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  @Override
  public synchronized int exitCode() {
    return process == null ? -1 : process.exitCode();
  }

  /** SIGTERM, then SIGKILL after {@code grace}. */
  @Override
  public void stop(Duration grace) {
    WatchedProcess p;
    synchronized (this) {
      p = process;
    }
    if (p != null) {
      p.stop(grace);
    }
  }

  @Override
  public void kill() {
    WatchedProcess p;
    synchronized (this) {
      p = process;
    }
    if (p != null) {
      p.kill();
    }
  }

  /** A system program by its full path (the process's PATH has no sbin folders). */
  static String hostProgram(String name) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IllegalStateException(name + " not found in /usr/sbin, /usr/bin, /sbin or /bin");
  }

  private static String shq(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
