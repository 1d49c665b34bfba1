package io.tailops.testkit.podrunner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kubelet's Secret-volume layout, which containerboot's config watcher depends on ({@code ..data} swaps). */
class AtomicVolumeWriterTest {

  private static AtomicVolumeWriter.File f(String s) {
    return new AtomicVolumeWriter.File(s.getBytes(StandardCharsets.UTF_8), 0644);
  }

  @Test
  void writesTheKubeletLayoutSwapsDataAtomicallyAndRemovesStaleNames(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("vol");
    AtomicVolumeWriter w = new AtomicVolumeWriter(dir);
    Map<String, AtomicVolumeWriter.File> p = new LinkedHashMap<>();
    p.put("cap-107.hujson", f("{\"Version\":\"alpha0\"}"));
    p.put("serve-config", f("{}"));
    p.put("sub/dir/file", f("nested"));
    assertThat(w.write(p)).isTrue();
    Path data = dir.resolve("..data");
    assertThat(Files.isSymbolicLink(data)).isTrue();
    String first = Files.readSymbolicLink(data).toString();
    assertThat(first).startsWith("..").matches("\\.\\.\\d{4}_\\d{2}_\\d{2}_\\d{2}_\\d{2}_\\d{2}\\.\\d{9}");
    assertThat(Files.readSymbolicLink(dir.resolve("cap-107.hujson")).toString()).isEqualTo("..data/cap-107.hujson");
    assertThat(Files.readSymbolicLink(dir.resolve("sub")).toString()).isEqualTo("..data/sub");
    assertThat(Files.readString(dir.resolve("sub/dir/file"))).isEqualTo("nested");
    assertThat(AtomicVolumeWriter.mode(Files.getPosixFilePermissions(dir.resolve(first).resolve("serve-config"))))
        .isEqualTo(0644);

    assertThat(w.write(new LinkedHashMap<>(p))).as("same payload: nothing written").isFalse();
    assertThat(Files.readSymbolicLink(data).toString()).isEqualTo(first);

    p.remove("serve-config");
    p.put("cap-107.hujson", f("{\"Version\":\"alpha0\",\"Hostname\":\"x\"}"));
    assertThat(w.write(p)).isTrue();
    String second = Files.readSymbolicLink(data).toString();
    assertThat(second).isNotEqualTo(first);
    assertThat(dir.resolve(first)).doesNotExist();
    assertThat(dir.resolve("serve-config")).doesNotExist();
    assertThat(Files.readString(dir.resolve("cap-107.hujson"))).contains("Hostname");
    try (var s = Files.list(dir)) {
      assertThat(s.map(x -> x.getFileName().toString()).sorted().toList())
          .containsExactlyInAnyOrder("..data", second, "cap-107.hujson", "sub");
    }
  }
}
