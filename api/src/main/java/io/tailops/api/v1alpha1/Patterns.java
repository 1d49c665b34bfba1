package io.tailops.api.v1alpha1;

/** Value patterns shared by several fields of the model (the same as the official CRDs'). */
public final class Patterns {
  /** A Tailscale ACL tag such as {@code tag:k8s}. */
  public static final String TAG = "^tag:[a-zA-Z][a-zA-Z0-9-]*$";
  /** A tailnet hostname: 2-63 lower-case letters, digits and dashes, neither first nor last a dash. */
  public static final String HOSTNAME = "^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$";
  /** A hostname prefix, to which a replica's ordinal is appended: 1-62 characters, not starting with a dash. */
  public static final String HOSTNAME_PREFIX = "^[a-z0-9][a-z0-9-]{0,61}$";
  /** An environment variable name (C identifier, also allowing '-' and '.'). */
  public static final String ENV_VAR_NAME = "^[-._a-zA-Z][-._a-zA-Z0-9]*$";

  private Patterns() {
  }
}
