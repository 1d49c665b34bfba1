package io.tailops.operator.apiproxy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The head of an HTTP/1.1 message (start line and header fields, in order) as read from and written to a socket,
 * and the rules for where its body ends (RFC 9112 §6). The API server proxy relays bodies byte for byte and only
 * edits heads, so that chunked watch streams and protocol upgrades pass through untouched.
 */
final class HttpMessage {
  /** Longest head accepted (start line and fields together); the API server's own limit is far larger than needed. */
  static final int MAX_HEAD = 64 * 1024;

  private String startLine;
  private final List<String[]> fields = new ArrayList<>();

  private HttpMessage(String startLine) {
    this.startLine = startLine;
  }

  static HttpMessage of(String startLine) {
    return new HttpMessage(startLine);
  }

  /** How a body is delimited. */
  enum BodyKind {
    NONE, LENGTH, CHUNKED, UNTIL_CLOSE
  }

  /** Thrown for a head that is not well-formed HTTP/1.1. */
  static final class MalformedException extends IOException {
    MalformedException(String message) {
      super(message);
    }
  }

  /**
   * Reads one head; empty when the peer closed the connection before sending any byte of it (the normal end of a
   * keep-alive connection).
   */
  static Optional<HttpMessage> read(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    HttpMessage msg = null;
    int total = 0;
    boolean any = false;
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (!any) {
          return Optional.empty();
        }
        throw new EOFException("connection closed in the middle of a message head");
      }
      any = true;
      if (++total > MAX_HEAD) {
        throw new MalformedException("message head longer than " + MAX_HEAD + " bytes");
      }
      if (b != '\n') {
        line.write(b);
        continue;
      }
      String text = line.toString(StandardCharsets.ISO_8859_1);
      line.reset();
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      if (msg == null) {
        if (text.isEmpty()) {
          continue; // RFC 9112 §2.2: ignore empty lines before the request line
        }
        msg = new HttpMessage(text);
        continue;
      }
      if (text.isEmpty()) {
        return Optional.of(msg);
      }
      int colon = text.indexOf(':');
      if (colon <= 0 || text.substring(0, colon).chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
        throw new MalformedException("malformed header field line");
      }
      msg.fields.add(new String[] {text.substring(0, colon), text.substring(colon + 1).strip()});
    }
  }

  String startLine() {
    return startLine;
  }

  void startLine(String line) {
    this.startLine = line;
  }

  /** The request method (first word of a request line). */
  String method() {
    int sp = startLine.indexOf(' ');
    return sp < 0 ? startLine : startLine.substring(0, sp);
  }

  /** The request target (second word of a request line). */
  String target() {
    String[] parts = startLine.split(" ", 3);
    return parts.length < 2 ? "" : parts[1];
  }

  /** The request target's path, without the query. */
  String path() {
    String t = target();
    int q = t.indexOf('?');
    return q < 0 ? t : t.substring(0, q);
  }

  /** The status code of a response head; -1 if the status line is malformed. */
  int status() {
    String[] parts = startLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The first value of a field, compared case-insensitively. */
  Optional<String> header(String name) {
    for (String[] f : fields) {
      if (f[0].equalsIgnoreCase(name)) {
        return Optional.of(f[1]);
      }
    }
    return Optional.empty();
  }

  List<String> headers(String name) {
    List<String> out = new ArrayList<>();
    for (String[] f : fields) {
      if (f[0].equalsIgnoreCase(name)) {
        out.add(f[1]);
      }
    }
    return out;
  }

  /** Whether any value of the comma-separated field {@code name} is the token {@code token} (case-insensitive). */
  boolean hasToken(String name, String token) {
    for (String v : headers(name)) {
      for (String t : v.split(",")) {
        if (t.strip().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  void remove(String name) {
    fields.removeIf(f -> f[0].equalsIgnoreCase(name));
  }

  void removePrefix(String prefix) {
    String p = prefix.toLowerCase(Locale.ROOT);
    fields.removeIf(f -> f[0].toLowerCase(Locale.ROOT).startsWith(p));
  }

  void add(String name, String value) {
    fields.add(new String[] {name, value});
  }

  void set(String name, String value) {
    remove(name);
    add(name, value);
  }

  /** Field names in order (for tests and logs; values are not exposed here). */
  List<String> names() {
    return fields.stream().map(f -> f[0]).toList();
  }

  /** How the body of this request ends. */
  BodyKind requestBody() throws MalformedException {
    if (!headers("Transfer-Encoding").isEmpty()) {
      if (!isChunkedLast()) {
        throw new MalformedException("request with a Transfer-Encoding other than chunked");
      }
      return BodyKind.CHUNKED;
    }
    return contentLength().orElse(0L) > 0 ? BodyKind.LENGTH : BodyKind.NONE;
  }

  /** How the body of this response (to a request with {@code requestMethod}) ends. */
  BodyKind responseBody(String requestMethod) throws MalformedException {
    int s = status();
    if ("HEAD".equals(requestMethod) || s / 100 == 1 || s == 204 || s == 304) {
      return BodyKind.NONE;
    }
    if (!headers("Transfer-Encoding").isEmpty()) {
      return isChunkedLast() ? BodyKind.CHUNKED : BodyKind.UNTIL_CLOSE;
    }
    Optional<Long> len = contentLength();
    if (len.isPresent()) {
      return len.get() > 0 ? BodyKind.LENGTH : BodyKind.NONE;
    }
    return BodyKind.UNTIL_CLOSE;
  }

  private boolean isChunkedLast() {
    List<String> te = headers("Transfer-Encoding");
    String last = te.get(te.size() - 1);
    String[] codings = last.split(",");
    return codings[codings.length - 1].strip().equalsIgnoreCase("chunked");
  }

  Optional<Long> contentLength() throws MalformedException {
    List<String> values = headers("Content-Length");
    if (values.isEmpty()) {
      return Optional.empty();
    }
    long len = -1;
    for (String v : values) {
      for (String part : v.split(",")) {
        long l;
        try {
          l = Long.parseLong(part.strip());
        } catch (NumberFormatException e) {
          throw new MalformedException("invalid Content-Length");
        }
        if (l < 0 || len >= 0 && l != len) {
          throw new MalformedException("invalid Content-Length");
        }
        len = l;
      }
    }
    return Optional.of(len);
  }

  void writeTo(OutputStream out) throws IOException {
    StringBuilder b = new StringBuilder(256).append(startLine).append("\r\n");
    for (String[] f : fields) {
      b.append(f[0]).append(": ").append(f[1]).append("\r\n");
    }
    b.append("\r\n");
    out.write(b.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * Copies the body that follows this head from {@code in} to {@code out}, flushing after every chunk so that watch
   * events reach the caller as soon as the API server sends them.
   */
  void relayBody(BodyKind kind, InputStream in, OutputStream out) throws IOException {
    switch (kind) {
      case NONE -> out.flush();
      case LENGTH -> {
        copy(in, out, contentLength().orElse(0L));
        out.flush();
      }
      case UNTIL_CLOSE -> copyUntilEof(in, out);
      case CHUNKED -> relayChunked(in, out);
      default -> throw new IllegalStateException();
    }
  }

  /** Reads (and decodes) the body that follows this head, at most {@code max} bytes. */
  byte[] readBody(BodyKind kind, InputStream in, int max) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (kind) {
      case NONE -> {
      }
      case LENGTH -> {
        long len = contentLength().orElse(0L);
        if (len > max) {
          throw new MalformedException("body longer than " + max + " bytes");
        }
        copy(in, out, len);
      }
      case UNTIL_CLOSE -> {
        byte[] buf = new byte[8192];
        int r;
        while ((r = in.read(buf)) >= 0) {
          out.write(buf, 0, r);
          if (out.size() > max) {
            throw new MalformedException("body longer than " + max + " bytes");
          }
        }
      }
      case CHUNKED -> {
        while (true) {
          String sizeLine = readLine(in);
          int semi = sizeLine.indexOf(';');
          long size;
          try {
            size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip(), 16);
          } catch (NumberFormatException e) {
            throw new MalformedException("invalid chunk size");
          }
          if (size == 0) {
            while (!readLine(in).isEmpty()) {
              // trailer fields are not needed
            }
            break;
          }
          if (size < 0 || out.size() + size > max) {
            throw new MalformedException("body longer than " + max + " bytes");
          }
          copy(in, out, size);
          readLine(in);
        }
      }
      default -> throw new IllegalStateException();
    }
    return out.toByteArray();
  }

  private static void relayChunked(InputStream in, OutputStream out) throws IOException {
    while (true) {
      String sizeLine = readLine(in);
      out.write((sizeLine + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      int semi = sizeLine.indexOf(';');
      String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip();
      long size;
      try {
        size = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new MalformedException("invalid chunk size");
      }
      if (size < 0) {
        throw new MalformedException("invalid chunk size");
      }
      if (size == 0) {
        while (true) { // trailer section, ends with an empty line
          String t = readLine(in);
          out.write((t + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          if (t.isEmpty()) {
            out.flush();
            return;
          }
        }
      }
      copy(in, out, size);
      String crlf = readLine(in);
      if (!crlf.isEmpty()) {
        throw new MalformedException("chunk not followed by CRLF");
      }
      out.write('\r');
      out.write('\n');
      out.flush();
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(32);
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed in the middle of a chunked body");
      }
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      if (line.size() > 4096) {
        throw new MalformedException("chunk line too long");
      }
      line.write(b);
    }
  }

  static void copy(InputStream in, OutputStream out, long n) throws IOException {
    byte[] buf = new byte[16 * 1024];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        throw new EOFException("connection closed " + left + " bytes before the end of a body");
      }
      out.write(buf, 0, r);
      left -= r;
    }
  }

  /** Copies until {@code in} ends, flushing after every read (streams of unknown length, upgraded connections). */
  static void copyUntilEof(InputStream in, OutputStream out) throws IOException {
    byte[] buf = new byte[16 * 1024];
    int r;
    while ((r = in.read(buf)) >= 0) {
      out.write(buf, 0, r);
      out.flush();
    }
  }

  /** A complete plain-text response, as Go's {@code http.Error} writes it, that closes the connection. */
  static byte[] plainResponse(int status, String reason, String body) {
    byte[] b = (body + "\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + reason + "\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "X-Content-Type-Options: nosniff\r\n"
        + "Content-Length: " + b.length + "\r\n"
        + "Connection: close\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[h.length + b.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(b, 0, out, h.length, b.length);
    return out;
  }
}
