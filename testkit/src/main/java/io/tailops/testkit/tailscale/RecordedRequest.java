package io.tailops.testkit.tailscale;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A request as {@link FakeTailscaleApi} received it, for assertions on the wire format (headers, auth style, body).
 * Test-only: bodies and headers are kept verbatim, including credentials.
 *
 * @param endpoint the matched endpoint, or null for an unknown path
 * @param method HTTP method
 * @param path raw request path
 * @param query raw query string, or null
 * @param headers request headers, names in lower case
 * @param body request body as UTF-8 text ("" when none)
 * @param received when the fake received it (fake clock)
 */
public record RecordedRequest(Endpoint endpoint, String method, String path, String query,
    Map<String, List<String>> headers, String body, Instant received) {
  public RecordedRequest {
    headers = Map.copyOf(headers);
  }

  /** First value of a header (case-insensitive), or null. */
  public String header(String name) {
    List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  @Override
  public String toString() {
    return "RecordedRequest[" + method + " " + path + (query == null ? "" : "?" + query) + "]";
  }
}
