package io.tailops.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Linux tells about a process: CPU time (user + system, all its threads, from {@code /proc/<pid>/stat}), resident
 * memory and its peak, and threads ({@code /proc/<pid>/status}). Read the same way for every operator, JVM, native or
 * Go. All fields are null when the process is gone or this is not Linux. RSS is split as the kernel counts it:
 * anonymous memory (heaps, stacks, malloc) and file-backed pages (the executable and libraries, a mapped CDS archive
 * or AOT cache), which are shared and can be dropped and read again under memory pressure.
 */
record ProcFigures(Double cpuSeconds, Long rssKib, Long rssPeakKib, Long threads, Long rssAnonKib, Long rssFileKib) {
  /** Clock ticks per second of {@code utime}/{@code stime} ({@code getconf CLK_TCK}; 100 on every Linux here). */
  static final long CLOCK_TICKS = clockTicks();

  static ProcFigures of(long pid) {
    if (pid <= 0) {
      return new ProcFigures(null, null, null, null, null, null);
    }
    Double cpu = null;
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // pid (comm) state ppid ... : comm may contain spaces and parentheses, so count fields after the last ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      long utime = Long.parseLong(f[11]); // field 14 of the whole line
      long stime = Long.parseLong(f[12]); // field 15
      cpu = (utime + stime) / (double) CLOCK_TICKS;
    } catch (IOException | RuntimeException e) {
      // gone or not Linux
    }
    Map<String, Long> st = status(pid);
    return new ProcFigures(cpu, st.get("VmRSS"), st.get("VmHWM"), st.get("Threads"), st.get("RssAnon"),
        st.get("RssFile"));
  }

  /** VmRSS, VmHWM, RssAnon, RssFile (KiB) and Threads of a Linux process. */
  static Map<String, Long> status(long pid) {
    Map<String, Long> out = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        for (String key : List.of("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")) {
          if (line.startsWith(key + ":")) {
            out.put(key, Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux or the process is gone: no figures
    }
    return out;
  }

  Double rssMib() {
    return rssKib == null ? null : mib(rssKib);
  }

  Double rssPeakMib() {
    return rssPeakKib == null ? null : mib(rssPeakKib);
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpu_seconds", cpuSeconds == null ? null : round2(cpuSeconds));
    m.put("rss_mib", rssMib());
    m.put("rss_peak_mib", rssPeakMib());
    m.put("rss_anon_mib", rssAnonKib == null ? null : mib(rssAnonKib));
    m.put("rss_file_mib", rssFileKib == null ? null : mib(rssFileKib));
    m.put("threads", threads);
    return m;
  }

  /** CPU seconds spent since {@code before} (null when either is unknown). */
  Double cpuSince(ProcFigures before) {
    return cpuSeconds == null || before == null || before.cpuSeconds == null ? null
        : round2(cpuSeconds - before.cpuSeconds);
  }

  static double mib(long kib) {
    return Math.round(kib / 1024.0 * 10) / 10.0;
  }

  static double round2(double d) {
    return Math.round(d * 100) / 100.0;
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (IOException | RuntimeException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
