package io.tailops.operator.runtime;

import io.tailops.operator.apiproxy.PeerIdentity;
import io.tailops.operator.apiproxy.WhoIs;
import io.tailops.operator.config.SecuritySettings.StatusPageAccess;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Decides who sees the status page through the operator's tailnet device. The device's serve config forwards tailnet
 * requests to the operator's loopback admin port and sets {@code X-Forwarded-For} to the caller's tailnet address
 * (replacing whatever the caller sent); the device's LocalAPI {@code whois} says who is behind that address and which
 * grant capabilities the caller has on the device.
 *
 * <ul>
 *   <li>{@link StatusPageAccess#GRANT} (the default): only callers with the capability
 *       {@value StatusPageAccess#CAPABILITY} (any value) in a grant whose destination is the operator's device;
 *   <li>{@link StatusPageAccess#TAILNET}: every caller the device knows;
 *   <li>{@link StatusPageAccess#OFF}: nobody (the device does not publish the page at all).
 * </ul>
 *
 * A request without exactly one forwarded address, from an address the device does not know, or while the device
 * cannot be asked, is refused: the gate fails closed.
 */
public final class StatusPageGate {
  /** The outcome for one request: allowed or not, the HTTP status and message to answer with, and who asked. */
  public record Decision(boolean allowed, int status, String message, String caller) {
    static Decision allow(String caller) {
      return new Decision(true, 200, "", caller);
    }

    static Decision deny(int status, String message, String caller) {
      return new Decision(false, status, message, caller);
    }
  }

  private final StatusPageAccess access;
  private final WhoIs whoIs;

  public StatusPageGate(StatusPageAccess access, WhoIs whoIs) {
    this.access = access;
    this.whoIs = whoIs;
  }

  public StatusPageAccess access() {
    return access;
  }

  /** The decision for a request whose {@code X-Forwarded-For} values are {@code forwardedFor}. */
  public Decision decide(List<String> forwardedFor) {
    if (access == StatusPageAccess.OFF) {
      return Decision.deny(404, "the status page is not published on the tailnet (OPERATOR_STATUS_PAGE=off)", "");
    }
    if (forwardedFor.size() != 1 || forwardedFor.get(0).contains(",") || forwardedFor.get(0).isBlank()) {
      return Decision.deny(403, "this page is served to tailnet callers through the operator's device only", "");
    }
    String address = forwardedFor.get(0).strip();
    Optional<PeerIdentity> who;
    try {
      who = whoIs.whoIs(address);
    } catch (IOException e) {
      return Decision.deny(503, "cannot tell who is calling: the operator's device did not answer (" + e.getMessage()
          + ")", address);
    }
    if (who.isEmpty()) {
      return Decision.deny(403, "the operator's device does not know the caller " + address, address);
    }
    PeerIdentity peer = who.get();
    if (access == StatusPageAccess.TAILNET || peer.capabilities().contains(StatusPageAccess.CAPABILITY)) {
      return Decision.allow(peer.describe());
    }
    return Decision.deny(403, peer.describe() + " may not see this operator's status page. A tailnet admin grants it "
        + "with a grant whose destination is the operator's device and whose app capabilities include "
        + StatusPageAccess.CAPABILITY + ", for example: {\"src\": [\"group:sre\"], \"dst\": [\"tag:k8s-operator\"], "
        + "\"app\": {\"" + StatusPageAccess.CAPABILITY + "\": [{}]}}", peer.describe());
  }
}
