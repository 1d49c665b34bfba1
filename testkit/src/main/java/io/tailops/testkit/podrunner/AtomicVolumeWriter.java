package io.tailops.testkit.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a Secret or ConfigMap volume the way the kubelet does ({@code pkg/volume/util/atomic_writer.go}), because
 * containerboot relies on that layout: its tailscaled-config watcher reacts only to the {@code ..data} symlink being
 * replaced.
 *
 * <pre>
 *   &lt;dir&gt;/..2026_07_21_10_00_00.123456789/cap-107.hujson   the payload, in a fresh timestamped folder per update
 *   &lt;dir&gt;/..data -&gt; ..2026_07_21_10_00_00.123456789        swapped atomically (symlink ..data_tmp, then rename)
 *   &lt;dir&gt;/cap-107.hujson -&gt; ..data/cap-107.hujson           one stable symlink per top-level name
 * </pre>
 *
 * An update whose payload equals the current one writes nothing; otherwise the new timestamped folder is written, the
 * {@code ..data} link is swapped, missing user-visible links are created, the old folder is removed and links of
 * names no longer in the payload are deleted.
 */
final class AtomicVolumeWriter {

  static final String DATA_DIR = "..data";
  private static final String DATA_TMP = "..data_tmp";
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss.");

  /** A file of the payload: its bytes and POSIX mode (e.g. 0644). */
  record File(byte[] content, int mode) {
    @Override
    public boolean equals(Object o) {
      return o instanceof File f && f.mode == mode && Arrays.equals(f.content, content);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(content) * 31 + mode;
    }
  }

  private final Path dir;

  AtomicVolumeWriter(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  /**
   * Makes the volume hold exactly {@code payload} (relative path, may contain {@code /}, to file).
   *
   * @return whether anything changed
   */
  synchronized boolean write(Map<String, File> payload) {
    try {
      Files.createDirectories(dir);
      for (String p : payload.keySet()) {
        checkPath(p);
      }
      Path dataLink = dir.resolve(DATA_DIR);
      Path oldTs = null;
      if (Files.isSymbolicLink(dataLink)) {
        oldTs = dir.resolve(Files.readSymbolicLink(dataLink));
        if (payload.equals(read(oldTs))) {
          return false;
        }
      }
      String tsName = ".." + LocalDateTime.now().format(TS)
          + String.format("%09d", ThreadLocalRandom.current().nextInt(1_000_000_000));
      Path ts = Files.createDirectory(dir.resolve(tsName));
      for (Map.Entry<String, File> f : payload.entrySet()) {
        Path target = ts.resolve(f.getKey());
        Files.createDirectories(target.getParent());
        Files.write(target, f.getValue().content());
        Files.setPosixFilePermissions(target, permissions(f.getValue().mode()));
      }
      Files.setPosixFilePermissions(ts, permissions(0755));
      Path tmp = dir.resolve(DATA_TMP);
      Files.deleteIfExists(tmp);
      Files.createSymbolicLink(tmp, Path.of(tsName));
      Files.move(tmp, dataLink, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Set<String> topLevel = new HashSet<>();
      for (String p : payload.keySet()) {
        String top = p.contains("/") ? p.substring(0, p.indexOf('/')) : p;
        topLevel.add(top);
        Path link = dir.resolve(top);
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
          try {
            Files.createSymbolicLink(link, Path.of(DATA_DIR, top));
          } catch (FileAlreadyExistsException ignored) {
            // created meanwhile
          }
        }
      }
      if (oldTs != null && !oldTs.getFileName().toString().equals(tsName)) {
        deleteRecursively(oldTs);
      }
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path e : entries) {
          String n = e.getFileName().toString();
          if (!n.startsWith("..") && !topLevel.contains(n)) {
            deleteRecursively(e);
          }
        }
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write volume " + dir, e);
    }
  }

  /** The payload currently in a timestamped folder (relative path to file). */
  private static Map<String, File> read(Path ts) throws IOException {
    Map<String, File> out = new LinkedHashMap<>();
    if (!Files.isDirectory(ts)) {
      return out;
    }
    try (var walk = Files.walk(ts)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(ts.relativize(p).toString(), new File(Files.readAllBytes(p),
              mode(Files.getPosixFilePermissions(p))));
        }
      }
    }
    return out;
  }

  private static void checkPath(String p) {
    if (p.isEmpty() || p.startsWith("/") || p.startsWith("..") || Arrays.asList(p.split("/")).contains("..")) {
      throw new IllegalArgumentException("invalid volume path " + p);
    }
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> s = new HashSet<>();
    PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.OWNER_READ};
    for (int i = 0; i < order.length; i++) {
      if ((mode & (1 << i)) != 0) {
        s.add(order[i]);
      }
    }
    return s;
  }

  static int mode(Set<PosixFilePermission> perms) {
    int m = 0;
    PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.OWNER_READ};
    for (int i = 0; i < order.length; i++) {
      if (perms.contains(order[i])) {
        m |= 1 << i;
      }
    }
    return m;
  }

  static void deleteRecursively(Path p) throws IOException {
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(p)) {
        for (Path e : entries) {
          deleteRecursively(e);
        }
      }
    }
    Files.deleteIfExists(p);
  }
}
