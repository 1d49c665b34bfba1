package io.tailops.testkit.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads the API server's JSON audit log (one event per request, policy level {@code Metadata} for every request).
 *
 * <p>Typical use, "no writes on an idle resync":
 *
 * <pre>{@code
 * AuditLog audit = server.audit();
 * AuditLog.Mark mark = audit.mark();          // everything before this is ignored
 * ... trigger a resync, wait for it ...
 * AuditEvents writes = audit.since(mark).byUserAgent("tailscale-operator").writes();
 * assertThat(writes.count()).as(writes.summary()).isZero();
 * }</pre>
 *
 * <p>The API server writes an event when a request completes, possibly a moment after the client got its response.
 * {@link #mark()} and {@link #since(Mark)} therefore first {@link #sync()}: they send a marker request and wait
 * until its event is in the file, so every request that completed before the call is counted.
 */
public final class AuditLog {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A position in the log; {@link #since(Mark)} returns what was logged after it. */
  public record Mark(long offset, Instant at) {
  }

  private final Path file;
  private final Consumer<String> markerSender;

  /**
   * @param file         the audit log file
   * @param markerSender sends a GET for the given URI (path and query) to the API server; used by {@link #sync()}
   */
  public AuditLog(Path file, Consumer<String> markerSender) {
    this.file = file;
    this.markerSender = markerSender;
  }

  public Path file() {
    return file;
  }

  /** Waits until the events of all requests that completed before this call are in the file. */
  public void sync() {
    if (markerSender == null) {
      return;
    }
    String marker = "tsop-audit-marker=" + UUID.randomUUID();
    markerSender.accept("/version?" + marker);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      if (tailContains(marker)) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException("audit marker " + marker + " did not show up in " + file + " within 15s");
  }

  /** The current end of the log, after {@link #sync()}. */
  public Mark mark() {
    sync();
    return new Mark(completeEnd(), Instant.now());
  }

  /** Every event in the file. */
  public AuditEvents all() {
    sync();
    return new AuditEvents(read(0));
  }

  /** The events logged after {@code mark} (the marker requests of this class excluded). */
  public AuditEvents since(Mark mark) {
    sync();
    return new AuditEvents(read(mark.offset()));
  }

  /** The events of requests received in [{@code from}, {@code to}). */
  public AuditEvents between(Instant from, Instant to) {
    sync();
    return new AuditEvents(read(0)).filter(e -> e.requestReceived() != null
        && !e.requestReceived().isBefore(from) && e.requestReceived().isBefore(to));
  }

  private long size() {
    try {
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The offset just after the last complete line, so that a mark never splits an event. */
  private long completeEnd() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      long pos = size;
      ByteBuffer one = ByteBuffer.allocate(8192);
      while (pos > 0) {
        long from = Math.max(0, pos - one.capacity());
        one.clear();
        one.limit((int) (pos - from));
        ch.read(one, from);
        for (int i = one.position() - 1; i >= 0; i--) {
          if (one.get(i) == '\n') {
            return from + i + 1;
          }
        }
        pos = from;
      }
      return 0;
    } catch (java.nio.file.NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses complete lines from {@code offset}; skips the markers, the stages other than the last, and junk. */
  List<AuditEvent> read(long offset) {
    List<AuditEvent> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : completeLines(offset)) {
      if (line.isBlank() || line.contains("tsop-audit-marker=")) {
        continue;
      }
      try {
        JsonNode n = JSON.readTree(line);
        String stage = n.path("stage").asText();
        if ("ResponseComplete".equals(stage) || "Panic".equals(stage)) {
          out.add(AuditEvent.fromJson(n));
        }
      } catch (IOException e) {
        // not a JSON event (never expected); ignore rather than fail the test on it
      }
    }
    return out;
  }

  private boolean tailContains(String marker) {
    long size = size();
    long from = Math.max(0, size - 262_144);
    for (String line : completeLines(from)) {
      if (line.contains(marker)) {
        return true;
      }
    }
    return false;
  }

  private List<String> completeLines(long offset) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (offset >= size) {
        return List.of();
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(size - offset, 1 << 20));
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      ch.position(offset);
      while (ch.read(buf) > 0) {
        bytes.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      String text = bytes.toString(StandardCharsets.UTF_8);
      int lastNl = text.lastIndexOf('\n');
      if (lastNl < 0) {
        return List.of();
      }
      // a partial first line (offset inside a line) is only possible for tailContains, where it does no harm
      return List.of(text.substring(0, lastNl).split("\n"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read audit log " + file, e);
    }
  }
}
