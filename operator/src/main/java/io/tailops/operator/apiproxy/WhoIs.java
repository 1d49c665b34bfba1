package io.tailops.operator.apiproxy;

import java.io.IOException;
import java.util.Optional;

/** Who is behind a tailnet address: the operator device's LocalAPI {@code whois}. */
public interface WhoIs {
  /**
   * @param address a tailnet IP (as serve sends it in {@code X-Forwarded-For}) or IP:port
   * @return the caller, or empty when the device knows no peer with that address
   * @throws IOException when the device cannot be asked (not running yet, socket missing)
   */
  Optional<PeerIdentity> whoIs(String address) throws IOException;
}
