package io.tailops.operator.status;

/** Something to tell the user about with an Event: type ({@code Normal}/{@code Warning}), reason and message. */
public record Problem(String type, String reason, String message) {
  public static Problem warning(String reason, String message) {
    return new Problem("Warning", reason, message);
  }

  public static Problem normal(String reason, String message) {
    return new Problem("Normal", reason, message);
  }
}
