package io.tailops.release;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/** Just enough of the tar format (ustar and pax path records) to read the files and symlinks of an image layer. */
final class Tar {
  /** A regular file's bytes, or a symlink's target (with {@code link} set). */
  record Entry(byte[] data, String link) {
  }

  private Tar() {
  }

  /** Every entry of a (gzip-compressed or plain) tar, by path without a leading "./" or "/". */
  static Map<String, Entry> read(byte[] blob) {
    try (InputStream in = blob.length > 2 && (blob[0] & 0xff) == 0x1f && (blob[1] & 0xff) == 0x8b
        ? new GZIPInputStream(new ByteArrayInputStream(blob)) : new ByteArrayInputStream(blob)) {
      byte[] all = in.readAllBytes();
      Map<String, Entry> out = new LinkedHashMap<>();
      String paxPath = null;
      int pos = 0;
      while (pos + 512 <= all.length) {
        if (isZero(all, pos)) {
          break;
        }
        String name = str(all, pos, 100);
        long size = Long.parseLong(str(all, pos + 124, 12).trim().isEmpty() ? "0" : str(all, pos + 124, 12).trim(), 8);
        char type = (char) all[pos + 156];
        String link = str(all, pos + 157, 100);
        String prefix = str(all, pos + 345, 155);
        int data = pos + 512;
        if (type == 'x') {
          String records = new String(all, data, (int) size, StandardCharsets.UTF_8);
          for (String rec : records.split("\n")) {
            int sp = rec.indexOf(' ');
            if (sp > 0 && rec.substring(sp + 1).startsWith("path=")) {
              paxPath = rec.substring(sp + 1 + "path=".length());
            }
          }
        } else if (type != 'g') {
          String path = paxPath != null ? paxPath : prefix.isEmpty() ? name : prefix + "/" + name;
          paxPath = null;
          path = path.replaceFirst("^\\./", "").replaceFirst("^/", "");
          if (type == '0' || type == '\0') {
            byte[] bytes = new byte[(int) size];
            System.arraycopy(all, data, bytes, 0, (int) size);
            out.put(path, new Entry(bytes, null));
          } else if (type == '2') {
            out.put(path, new Entry(null, link));
          }
        }
        pos = data + (int) ((size + 511) / 512 * 512);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean isZero(byte[] b, int pos) {
    for (int i = pos; i < pos + 512; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static String str(byte[] b, int pos, int len) {
    int end = pos;
    while (end < pos + len && b[end] != 0) {
      end++;
    }
    return new String(b, pos, end - pos, StandardCharsets.UTF_8);
  }

  /** e_machine of an ELF file: 62 is x86-64, 183 is AArch64. */
  static int elfMachine(byte[] elf) {
    if (elf.length < 20 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
      throw new AssertionError("not an ELF file");
    }
    return (elf[18] & 0xff) | (elf[19] & 0xff) << 8;
  }

  /** The program interpreter (PT_INTERP) of a 64-bit little-endian ELF executable. */
  static String elfInterpreter(byte[] elf) {
    long phoff = le(elf, 32, 8);
    int phentsize = (int) le(elf, 54, 2);
    int phnum = (int) le(elf, 56, 2);
    for (int i = 0; i < phnum; i++) {
      int ph = (int) (phoff + (long) i * phentsize);
      if (le(elf, ph, 4) == 3) {
        int off = (int) le(elf, ph + 8, 8);
        int size = (int) le(elf, ph + 32, 8);
        return new String(elf, off, size - 1, StandardCharsets.US_ASCII);
      }
    }
    throw new AssertionError("no PT_INTERP");
  }

  private static long le(byte[] b, int off, int len) {
    long v = 0;
    for (int i = len - 1; i >= 0; i--) {
      v = v << 8 | (b[off + i] & 0xff);
    }
    return v;
  }
}
