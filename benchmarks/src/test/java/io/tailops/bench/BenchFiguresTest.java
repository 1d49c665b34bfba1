package io.tailops.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark's own figures: process readings, the listening-port lookup, variants and the comparison table. */
class BenchFiguresTest {

  @Test
  void readsCpuRssAndThreadsOfAProcess() {
    long busyUntil = System.nanoTime() + 200_000_000L;
    double x = 0;
    while (System.nanoTime() < busyUntil) {
      x += Math.sqrt(x + 1);
    }
    ProcFigures p = ProcFigures.of(ProcessHandle.current().pid());
    assertThat(x).isPositive();
    assertThat(p.cpuSeconds()).isGreaterThanOrEqualTo(0.1);
    assertThat(p.rssKib()).isPositive();
    assertThat(p.rssPeakKib()).isGreaterThanOrEqualTo(p.rssKib());
    assertThat(p.threads()).isGreaterThanOrEqualTo(1L);
    assertThat(p.rssAnonKib() + p.rssFileKib()).isLessThanOrEqualTo(p.rssKib());
    assertThat(p.rssFileKib()).isPositive(); // at least libjvm.so
    assertThat(p.cpuSince(new ProcFigures(p.cpuSeconds() - 1.5, null, null, null, null, null))).isEqualTo(1.5);
  }

  @Test
  void aProcessThatIsGoneHasNoFigures() {
    ProcFigures p = ProcFigures.of(-1);
    assertThat(p.cpuSeconds()).isNull();
    assertThat(p.rssMib()).isNull();
    assertThat(p.cpuSince(p)).isNull();
  }

  @Test
  void findsThePortsAProcessListensOn() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<Integer> ports = ListeningPorts.of(ProcessHandle.current().pid());
      assertThat(ports).contains(s.getLocalPort());
    }
  }

  @Test
  void variantsCarryTheirArchiveFlags() {
    Map<String, Variant> presets = Variant.presets(Path.of("/jdk17"), Path.of("/jdk25"), null);
    Path dir = Path.of("/a");
    Variant jdk25 = presets.get("jdk25");
    assertThat(jdk25.runFlags(jdk25.archiveFile(dir))).contains("-XX:+UseCompactObjectHeaders",
        "-XX:AOTCache=/a/jdk25.aot");
    assertThat(jdk25.trainingFlags(jdk25.archiveFile(dir))).contains("-XX:AOTCacheOutput=/a/jdk25.aot");
    Variant jdk17 = presets.get("jdk17");
    assertThat(jdk17.runFlags(jdk17.archiveFile(dir))).contains("-XX:SharedArchiveFile=/a/jdk17.jsa")
        .doesNotContain("-XX:+UseCompactObjectHeaders");
    assertThat(presets.get("jdk25-c2").flags()).doesNotContain("-XX:TieredStopAtLevel=1");
    assertThat(presets).doesNotContainKey("native");
    assertThat(presets.get(Variant.OFFICIAL).ours()).isFalse();
  }

  @Test
  void parsesACustomJvmVariant() {
    String home = System.getProperty("java.home");
    Variant v = Variant.parse("g1=" + home + "+aot:-XX:+UseG1GC  -Xmx64m", Map.of());
    assertThat(v.name()).isEqualTo("g1");
    assertThat(v.archive()).isEqualTo(Variant.Archive.AOT);
    assertThat(v.flags()).containsExactly("-XX:+UseG1GC", "-Xmx64m");
    assertThatThrownBy(() -> Variant.parse("nothing", Map.of())).hasMessageContaining("unknown runtime nothing");
    assertThatThrownBy(() -> Variant.parse("x=/no/such/jdk:-Xmx1m", Map.of())).hasMessageContaining("no bin/java");
  }

  @Test
  void comparesEachOfOursWithTheOfficialOperator() {
    Map<String, Object> perN = new LinkedHashMap<>();
    perN.put("n", 100);
    perN.put("runs", List.of(run("official", "official", 35_200.0, 99.0), run("jdk25", "ours", 7_000.0, 79.2)));
    String table = SummaryTable.render(List.of(perN));
    assertThat(table).contains("| figure | official | jdk25 | jdk25 / official |");
    assertThat(table).contains("| every Service has its LB IP | 35.2 s | 7.0 s | 0.20× |");
    assertThat(table).contains("| RSS after creating, 30 s idle | 99 MiB | 79 MiB | 0.80× |");
    assertThat(SummaryTable.ratio(0, 0)).isEqualTo("=");
    assertThat(SummaryTable.ratio(5, 0)).isEqualTo("-");
    assertThat(SummaryTable.ratio(null, 3)).isEqualTo("-");
  }

  private static Map<String, Object> run(String variant, String operator, double lbMs, double rssMib) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("variant", variant);
    r.put("operator", operator);
    r.put("n", 100);
    r.put("create", Map.of("total_from_first_create", Map.of("all_lb_ips_ms", lbMs)));
    r.put("idle_after_create", Map.of("footprint", Map.of("rss_mib", rssMib)));
    return r;
  }
}
