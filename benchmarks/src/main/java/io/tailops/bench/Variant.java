package io.tailops.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operator under test and how it runs: ours on a Java runtime (JDK 17 or 25, with the image's flags and, where the
 * image has one, a class-data archive from a training run), ours as a native executable, or the official Go operator.
 * Each variant goes through the whole workload in an environment of its own ({@code --runtimes}, {@code --baseline}).
 */
record Variant(String name, Kind kind, Path javaHome, List<String> flags, Archive archive, Path executable,
    String description) {

  enum Kind {
    /** Ours: {@code java <flags> -cp <operator class path> io.tailops.operator.Main run}. */
    OURS_JVM,
    /** Ours: a native executable ({@code <executable> run}). */
    OURS_NATIVE,
    /** The official operator v1.94.2 (testkit {@code OfficialOperator}). */
    OFFICIAL
  }

  /** A class-data archive written by a training run of the same runtime and class path (see {@link Benchmark}). */
  enum Archive {
    NONE,
    /** JDK 17 AppCDS: trained with {@code -XX:ArchiveClassesAtExit}, used with {@code -XX:SharedArchiveFile}. */
    APPCDS,
    /** JDK 25 AOT cache (JEP 483/514/515): trained with {@code -XX:AOTCacheOutput}, used with {@code -XX:AOTCache}. */
    AOT
  }

  /**
   * The JVM flags of the container image (operator/pom.xml, Jib jvmFlags) on JDK 17, without the archive flag, and the
   * memory the chart gives the pod: in a pod the JVM sizes its heap from the container's limit (the chart's default
   * {@code operatorConfig.resources.limits.memory: 512Mi}, so MaxRAMPercentage=75 is a 384 MiB heap); here, with no
   * container, {@code -XX:MaxRAM=512m} stands for that limit. Without it the JVM takes 75 % of this machine's 24 GiB
   * and, under a burst of garbage, grows its heap to gigabytes instead of collecting (13 GiB resident after 1,000
   * Services of one egress ProxyGroup, 2026-12-08) — a size no pod of the chart can reach.
   */
  static final List<String> IMAGE_FLAGS_17 = List.of("-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=75", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xms16m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
      "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData");

  /** The same on JDK 25, with compact object headers (JEP 519: 8-byte headers instead of 12). */
  static final List<String> IMAGE_FLAGS_25 = with(IMAGE_FLAGS_17, "-XX:+UseCompactObjectHeaders");

  static final String OFFICIAL = "official";

  /** The presets of {@code --runtimes} and {@code --baseline}. */
  static Map<String, Variant> presets(Path jdk17, Path jdk25, Path nativeExecutable) {
    Map<String, Variant> m = new LinkedHashMap<>();
    m.put("jdk17", new Variant("jdk17", Kind.OURS_JVM, jdk17, IMAGE_FLAGS_17, Archive.APPCDS, null,
        "ours, JDK 17 (" + jdk17 + ") with the image's flags and an AppCDS archive, as the JDK 17 image"));
    m.put("jdk17-nocds", new Variant("jdk17-nocds", Kind.OURS_JVM, jdk17, IMAGE_FLAGS_17, Archive.NONE, null,
        "ours, JDK 17 with the image's flags, no AppCDS archive"));
    m.put("jdk25", new Variant("jdk25", Kind.OURS_JVM, jdk25, IMAGE_FLAGS_25, Archive.AOT, null,
        "ours, JDK 25 (" + jdk25 + ") with the image's flags, compact object headers and an AOT cache"));
    m.put("jdk25-noaot", new Variant("jdk25-noaot", Kind.OURS_JVM, jdk25, IMAGE_FLAGS_25, Archive.NONE, null,
        "ours, JDK 25 with the image's flags and compact object headers, no AOT cache"));
    m.put("jdk25-c2", new Variant("jdk25-c2", Kind.OURS_JVM, jdk25, without(IMAGE_FLAGS_25,
        "-XX:TieredStopAtLevel=1"), Archive.AOT, null,
        "ours, JDK 25 as jdk25 but with both JIT compilers (C1 and C2; the AOT cache then also carries profiles)"));
    if (nativeExecutable != null) {
      m.put("native", new Variant("native", Kind.OURS_NATIVE, null, List.of(), Archive.NONE, nativeExecutable,
          "ours, GraalVM native executable " + nativeExecutable));
    }
    m.put(OFFICIAL, new Variant(OFFICIAL, Kind.OFFICIAL, null, List.of(), Archive.NONE, null,
        "the official operator v1.94.2 (tailscale.com/cmd/k8s-operator, built by tools/build-binaries.sh)"));
    return m;
  }

  /**
   * A preset by name, or a custom JVM variant {@code NAME=JAVA_HOME[+aot|+appcds]:FLAGS} (flags separated by spaces,
   * no commas: {@code --runtimes} is a comma-separated list), e.g.
   * {@code jdk25-g1=/usr/lib/jvm/temurin-25-jdk-amd64+aot:-XX:+UseG1GC}.
   */
  static Variant parse(String spec, Map<String, Variant> presets) {
    Variant preset = presets.get(spec);
    if (preset != null) {
      return preset;
    }
    int eq = spec.indexOf('=');
    int colon = spec.indexOf(':', Math.max(eq, 0));
    if (eq <= 0 || colon < 0) {
      throw new IllegalArgumentException("unknown runtime " + spec + " (presets: " + presets.keySet()
          + ", or NAME=JAVA_HOME[+aot|+appcds]:FLAGS)");
    }
    String name = spec.substring(0, eq);
    String[] home = spec.substring(eq + 1, colon).split("\\+");
    Archive archive = home.length > 1 ? Archive.valueOf(home[1].toUpperCase(java.util.Locale.ROOT)) : Archive.NONE;
    List<String> flags = new ArrayList<>();
    for (String f : spec.substring(colon + 1).trim().split("\\s+")) {
      if (!f.isEmpty()) {
        flags.add(f);
      }
    }
    Path javaHome = Path.of(home[0]);
    if (!Files.isExecutable(javaHome.resolve("bin/java"))) {
      throw new IllegalArgumentException("runtime " + name + ": no bin/java in " + javaHome);
    }
    return new Variant(name, Kind.OURS_JVM, javaHome, List.copyOf(flags), archive, null,
        "ours, " + javaHome + " " + String.join(" ", flags) + (archive == Archive.NONE ? "" : " + " + archive));
  }

  boolean ours() {
    return kind != Kind.OFFICIAL;
  }

  boolean jvm() {
    return kind == Kind.OURS_JVM;
  }

  Path java() {
    return javaHome.resolve("bin").resolve("java");
  }

  /** The file name of this variant's archive in {@code dir}. */
  Path archiveFile(Path dir) {
    return dir.resolve(name + (archive == Archive.AOT ? ".aot" : ".jsa"));
  }

  /** Flags of a training run that writes the archive. */
  List<String> trainingFlags(Path archiveFile) {
    return switch (archive) {
      case NONE -> flags;
      case APPCDS -> with(flags, "-XX:ArchiveClassesAtExit=" + archiveFile);
      case AOT -> with(flags, "-XX:AOTCacheOutput=" + archiveFile);
    };
  }

  /** Flags of a measured run: the variant's flags and its archive (which must exist). */
  List<String> runFlags(Path archiveFile) {
    return switch (archive) {
      case NONE -> flags;
      case APPCDS -> with(flags, "-XX:SharedArchiveFile=" + archiveFile);
      case AOT -> with(flags, "-XX:AOTCache=" + archiveFile);
    };
  }

  static List<String> with(List<String> flags, String flag) {
    List<String> l = new ArrayList<>(flags);
    l.add(flag);
    return List.copyOf(l);
  }

  static List<String> without(List<String> flags, String flag) {
    List<String> l = new ArrayList<>(flags);
    l.remove(flag);
    return List.copyOf(l);
  }
}
