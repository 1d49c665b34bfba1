package io.tailops.controlplane;

import java.time.Duration;
import java.util.Optional;

/**
 * A control-plane call that failed. Keeps the HTTP status and the server's message (never a secret) and classifies
 * the failure so that callers can tell the user which credential, scope or tag to fix.
 */
public class ControlPlaneException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Classes of failure, each with a different fix. */
  public enum Kind {
    /** 401: the OAuth client ID/secret (or API key) is wrong, revoked or expired. */
    UNAUTHORIZED,
    /** 403: the credential lacks a scope needed for this call. */
    FORBIDDEN,
    /** 400 about tags: the requested tags are invalid or not owned by the OAuth client's tags. */
    TAG_NOT_PERMITTED,
    /** Other 400/422: the request was malformed. */
    BAD_REQUEST,
    /** 404: the object does not exist. */
    NOT_FOUND,
    /** 429 after retries were exhausted. */
    RATE_LIMITED,
    /** 5xx after retries were exhausted. */
    SERVER_ERROR,
    /** No HTTP response (connection refused, timeout, TLS) after retries were exhausted. */
    TRANSPORT,
    /** No usable credentials are configured (missing, empty, unreadable or placeholder files). */
    CREDENTIALS_UNAVAILABLE,
    /** The control plane does not offer this feature (for example headscale and policy reads). */
    UNSUPPORTED,
    /** Any other unexpected response. */
    OTHER
  }

  private final Kind kind;
  private final int status;
  private final String serverMessage;
  private final Duration retryAfter;
  private final String requiredScope;

  public ControlPlaneException(Kind kind, int status, String serverMessage, String message, Throwable cause) {
    this(kind, status, serverMessage, message, cause, null);
  }

  /**
   * @param retryAfter how long the server asked the client to wait before calling again ({@code Retry-After}), or
   *     null when it gave no such hint
   */
  public ControlPlaneException(Kind kind, int status, String serverMessage, String message, Throwable cause,
      Duration retryAfter) {
    this(kind, status, serverMessage, message, cause, retryAfter, null);
  }

  /**
   * @param requiredScope for a 403 ({@link Kind#FORBIDDEN}) from an API with scopes: the OAuth scope the call needs
   *     (e.g. {@code devices:core}); null when unknown
   */
  public ControlPlaneException(Kind kind, int status, String serverMessage, String message, Throwable cause,
      Duration retryAfter, String requiredScope) {
    super(message, cause);
    this.kind = kind;
    this.status = status;
    this.serverMessage = serverMessage;
    this.retryAfter = retryAfter;
    this.requiredScope = requiredScope;
  }

  public ControlPlaneException(Kind kind, int status, String serverMessage, String message) {
    this(kind, status, serverMessage, message, null);
  }

  public Kind kind() {
    return kind;
  }

  /** HTTP status, or 0 when there was no response. */
  public int status() {
    return status;
  }

  /** The {@code message} field of the server's error body, if any. */
  public String serverMessage() {
    return serverMessage;
  }

  /**
   * How long the control plane asked us to wait before the next call (a 429's {@code Retry-After}), counted from
   * when this exception was thrown; empty when it gave no hint.
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** For a 403: the OAuth scope the call needed (e.g. {@code devices:core}), when the control plane has scopes. */
  public Optional<String> requiredScope() {
    return Optional.ofNullable(requiredScope);
  }

  /** Whether retrying later may succeed without the user changing anything. */
  public boolean isTransient() {
    return kind == Kind.RATE_LIMITED || kind == Kind.SERVER_ERROR || kind == Kind.TRANSPORT;
  }

  /** A one-line explanation for users: what failed and what to fix. */
  public String userMessage() {
    return switch (kind) {
      case UNAUTHORIZED -> "Tailscale API rejected the OAuth credentials (" + detail()
          + "): check client_id/client_secret in the operator-oauth Secret";
      case FORBIDDEN -> requiredScope == null ? "Tailscale API refused the call for lack of permission (" + detail()
          + "): give the OAuth client the scopes devices:core and auth_keys (write)"
          : "Tailscale API refused the call for lack of permission (" + detail() + "): the OAuth client lacks the "
          + requiredScope + " scope: give it the scope " + Scopes.toGrant(
          requiredScope) + " (README, OAuth scopes)";
      case TAG_NOT_PERMITTED -> "Tailscale API refused the tags (" + detail()
          + "): the tags must be owned by the OAuth client's tag (tag:k8s-operator) in the policy's tagOwners";
      case CREDENTIALS_UNAVAILABLE -> getMessage();
      default -> getMessage();
    };
  }

  private String detail() {
    String m = serverMessage == null || serverMessage.isEmpty() ? "" : ": " + serverMessage;
    return "HTTP " + status + m;
  }
}
