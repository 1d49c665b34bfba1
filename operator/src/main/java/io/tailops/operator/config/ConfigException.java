package io.tailops.operator.config;

/** A malformed operator setting. The message is one line naming the variable and the accepted values. */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
