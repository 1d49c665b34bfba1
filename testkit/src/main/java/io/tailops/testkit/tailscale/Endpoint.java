package io.tailops.testkit.tailscale;

/**
 * The Tailscale API v2 endpoints served by {@link FakeTailscaleApi}, each a method plus a path template. Used to read
 * call counters and to target fault injection.
 */
public enum Endpoint {
  /** {@code POST /api/v2/oauth/token}: OAuth client-credentials token. */
  TOKEN("POST", "/api/v2/oauth/token"),
  /** {@code POST /api/v2/tailnet/-/keys}: create an auth key (E1). */
  CREATE_KEY("POST", "/api/v2/tailnet/-/keys"),
  /** {@code GET /api/v2/tailnet/-/keys}: list auth keys. */
  LIST_KEYS("GET", "/api/v2/tailnet/-/keys"),
  /** {@code GET /api/v2/tailnet/-/keys/{id}}: key metadata. */
  GET_KEY("GET", "/api/v2/tailnet/-/keys/{id}"),
  /** {@code DELETE /api/v2/tailnet/-/keys/{id}}: revoke a key. */
  DELETE_KEY("DELETE", "/api/v2/tailnet/-/keys/{id}"),
  /** {@code GET /api/v2/device/{id}}: get one device (E2). */
  GET_DEVICE("GET", "/api/v2/device/{id}"),
  /** {@code DELETE /api/v2/device/{id}}: delete a device (E3). */
  DELETE_DEVICE("DELETE", "/api/v2/device/{id}"),
  /** {@code GET /api/v2/tailnet/-/devices}: list devices. */
  LIST_DEVICES("GET", "/api/v2/tailnet/-/devices"),
  /** {@code GET /api/v2/tailnet/-/acl}: read the policy file. */
  GET_POLICY("GET", "/api/v2/tailnet/-/acl"),
  /** {@code GET /api/v2/device/{id}/routes}: a device's advertised and enabled routes. */
  GET_DEVICE_ROUTES("GET", "/api/v2/device/{id}/routes"),
  /** {@code POST /api/v2/device/{id}/routes}: set a device's enabled (approved) routes. */
  SET_DEVICE_ROUTES("POST", "/api/v2/device/{id}/routes");

  private final String method;
  private final String template;

  Endpoint(String method, String template) {
    this.method = method;
    this.template = template;
  }

  /** HTTP method, e.g. {@code GET}. */
  public String method() {
    return method;
  }

  /** Path template, e.g. {@code /api/v2/device/{id}}. */
  public String template() {
    return template;
  }

  /** {@code "<method> <template>"}. */
  @Override
  public String toString() {
    return method + " " + template;
  }
}
