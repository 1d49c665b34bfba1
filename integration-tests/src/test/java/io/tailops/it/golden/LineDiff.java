package io.tailops.it.golden;

import java.util.ArrayList;
import java.util.List;

/** A unified diff of two texts, line by line (longest common subsequence; the golden files are small). */
final class LineDiff {
  private static final int CONTEXT = 3;

  private LineDiff() {
  }

  /** The diff in unified format, or an empty string when the texts are equal. */
  static String unified(String expected, String actual, String expectedName, String actualName) {
    if (expected.equals(actual)) {
      return "";
    }
    String[] a = expected.isEmpty() ? new String[0] : expected.split("\n", -1);
    String[] b = actual.isEmpty() ? new String[0] : actual.split("\n", -1);
    int n = a.length;
    int m = b.length;
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[i].equals(b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    // the edit script: ' ' kept, '-' only in expected, '+' only in actual; with the line numbers on each side
    List<char[]> ops = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i].equals(b[j])) {
        ops.add(new char[] {' '});
        lines.add(a[i]);
        i++;
        j++;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.add(new char[] {'-'});
        lines.add(a[i]);
        i++;
      } else {
        ops.add(new char[] {'+'});
        lines.add(b[j]);
        j++;
      }
    }
    StringBuilder out = new StringBuilder("--- " + expectedName + "\n+++ " + actualName + "\n");
    int k = 0;
    int total = ops.size();
    while (k < total) {
      if (ops.get(k)[0] == ' ') {
        k++;
        continue;
      }
      int start = Math.max(0, k - CONTEXT);
      int end = k;
      // extend the hunk while changes are within 2*CONTEXT lines of each other
      int lastChange = k;
      while (end < total) {
        if (ops.get(end)[0] != ' ') {
          lastChange = end;
        } else if (end - lastChange > 2 * CONTEXT) {
          break;
        }
        end++;
      }
      end = Math.min(total, lastChange + CONTEXT + 1);
      int aLine = 1;
      int bLine = 1;
      for (int x = 0; x < start; x++) {
        aLine += ops.get(x)[0] != '+' ? 1 : 0;
        bLine += ops.get(x)[0] != '-' ? 1 : 0;
      }
      int aCount = 0;
      int bCount = 0;
      for (int x = start; x < end; x++) {
        aCount += ops.get(x)[0] != '+' ? 1 : 0;
        bCount += ops.get(x)[0] != '-' ? 1 : 0;
      }
      out.append("@@ -").append(aLine).append(',').append(aCount).append(" +").append(bLine).append(',')
          .append(bCount).append(" @@\n");
      for (int x = start; x < end; x++) {
        out.append(ops.get(x)[0]).append(lines.get(x)).append('\n');
      }
      k = end;
    }
    return out.toString();
  }
}
