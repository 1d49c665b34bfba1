package io.tailops.controlplane.headscale;

import io.tailops.controlplane.ControlPlaneException;

/**
 * A failed headscale API call. Same kinds, status and server message as every {@link ControlPlaneException}; only
 * {@link #userMessage()} differs, naming headscale's fixes instead of Tailscale's OAuth client and scopes.
 */
public final class HeadscaleApiException extends ControlPlaneException {
  private static final long serialVersionUID = 1L;

  private final Integer grpcCode;

  HeadscaleApiException(Kind kind, int status, String serverMessage, Integer grpcCode, String message,
      Throwable cause) {
    super(kind, status, serverMessage, message, cause);
    this.grpcCode = grpcCode;
  }

  /** The gRPC status code of a grpc-gateway error body ({@code {"code":5,...}}), or null. */
  public Integer grpcCode() {
    return grpcCode;
  }

  @Override
  public String userMessage() {
    return switch (kind()) {
      case UNAUTHORIZED -> "headscale rejected the API key (HTTP 401): the key is wrong, expired or deleted; create"
          + " one with `headscale apikeys create --expiration 90d` and put it into the API key file";
      case FORBIDDEN -> "headscale refused the call (HTTP 403" + detail() + ")";
      case TAG_NOT_PERMITTED -> "headscale refused the tags (" + "HTTP " + status() + detail()
          + "): tags must look like tag:<lowercase name>";
      case UNSUPPORTED -> getMessage();
      default -> getMessage();
    };
  }

  private String detail() {
    String m = serverMessage();
    return m == null || m.isEmpty() ? "" : ": " + m;
  }
}
