package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.tailops.testkit.LoopbackPorts;
import io.tailops.testkit.OneShotCommand;

/** Small local helpers: free loopback ports, short temporary folders, one-shot commands, files. */
final class Local {

  /** Ports never handed out: 8080 is the official operator's (controller-runtime's) default metrics port. */
  static final Set<Integer> RESERVED_PORTS = LoopbackPorts.RESERVED;

  /** Unix socket paths are limited to 107 bytes; folders for sockets stay below this length. */
  private static final int MAX_SOCKET_DIR = 80;

  private Local() {
  }

  static InetAddress loopback() {
    return InetAddress.getLoopbackAddress();
  }

  /** A TCP port free on 127.0.0.1 right now (never one of {@link #RESERVED_PORTS}, never one handed out before). */
  static int freeTcpPort() {
    return LoopbackPorts.tcp();
  }

  /** A TCP port free on {@code host} (a local address) right now, never one handed out before. */
  static int freeTcpPort(String host) {
    return LoopbackPorts.tcp(host);
  }

  /** A UDP port free on 127.0.0.1 right now. */
  static int freeUdpPort() {
    return LoopbackPorts.udp("127.0.0.1");
  }

  /** A UDP port free on {@code host} (a local address) right now. */
  static int freeUdpPort(String host) {
    return LoopbackPorts.udp(host);
  }

  /**
   * A new temporary folder whose path is short enough for unix sockets inside it: under {@code java.io.tmpdir} when
   * that is short, else under {@code /tmp}.
   */
  static Path shortTempDir(String prefix) {
    try {
      Path base = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
      if (base.toString().length() + prefix.length() + 24 > MAX_SOCKET_DIR) {
        base = Path.of("/tmp");
      }
      return Files.createTempDirectory(base, prefix).toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary folder", e);
    }
  }

  /** Checks that a unix socket at {@code socket} fits the kernel's path limit. */
  static Path checkSocketPath(Path socket) {
    if (socket.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length > 100) {
      throw new IllegalArgumentException("unix socket path too long (limit ~107 bytes): " + socket
          + "; use a shorter work folder");
    }
    return socket;
  }

  static void writeString(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Writes a file only its owner can read (keys, tokens). */
  static void writeSecret(Path file, String content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.deleteIfExists(file);
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // best effort: a socket or a file still being written
    }
  }

  /**
   * Runs a one-shot command with only the given environment (plus PATH), standard input closed, and a timeout after
   * which it is killed.
   */
  static OneShotCommand.Result run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
    return OneShotCommand.run(command, WatchedProcess.cleanEnv(env), workDir, timeout);
  }
}
