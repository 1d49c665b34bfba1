package io.tailops.operator.proxy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a running proxy wrote into its state Secret (containerboot's keys, wire contract §3.5).
 *
 * @param deviceId stable node ID ({@code device_id}); empty until the proxy has logged in
 * @param fqdn MagicDNS name without the trailing dot ({@code device_fqdn}); empty until routing is set up
 * @param ips tailnet IPs ({@code device_ips})
 * @param podUid UID of the pod that last started ({@code pod_uid})
 * @param capVer capability version of the running proxy ({@code tailscale_capver}), -1 if unknown
 * @param httpsEndpoint cert domain after the serve config was applied ({@code https_endpoint}); {@code no-https}
 *     when the tailnet cannot issue certificates
 */
public record DeviceState(String deviceId, String fqdn, List<String> ips, String podUid, int capVer,
    String httpsEndpoint) {

  public static final String KEY_DEVICE_ID = "device_id";
  public static final String KEY_DEVICE_FQDN = "device_fqdn";
  public static final String KEY_DEVICE_IPS = "device_ips";
  public static final String KEY_POD_UID = "pod_uid";
  public static final String KEY_CAPVER = "tailscale_capver";
  public static final String KEY_HTTPS_ENDPOINT = "https_endpoint";
  public static final String NO_HTTPS = "no-https";

  private static final ObjectMapper JSON = new ObjectMapper();
  public static final DeviceState NONE = new DeviceState("", "", List.of(), "", -1, "");

  public static DeviceState from(Secret secret) {
    if (secret == null || secret.getData() == null) {
      return NONE;
    }
    Map<String, String> data = secret.getData();
    String id = decode(data.get(KEY_DEVICE_ID));
    String fqdn = decode(data.get(KEY_DEVICE_FQDN));
    if (fqdn.endsWith(".")) {
      fqdn = fqdn.substring(0, fqdn.length() - 1);
    }
    List<String> ips = List.of();
    String rawIps = decode(data.get(KEY_DEVICE_IPS));
    if (!rawIps.isEmpty()) {
      try {
        ips = JSON.readValue(rawIps, new TypeReference<List<String>>() { });
      } catch (Exception e) {
        ips = List.of();
      }
    }
    int capVer = -1;
    try {
      String c = decode(data.get(KEY_CAPVER));
      capVer = c.isEmpty() ? -1 : Integer.parseInt(c.trim());
    } catch (NumberFormatException e) {
      capVer = -1;
    }
    String https = decode(data.get(KEY_HTTPS_ENDPOINT));
    if (https.endsWith(".")) {
      https = https.substring(0, https.length() - 1);
    }
    return new DeviceState(id, fqdn, ips, decode(data.get(KEY_POD_UID)), capVer, https);
  }

  /** Whether the proxy has logged in (it wrote {@code device_id}). */
  public boolean hasDevice() {
    return !deviceId.isEmpty();
  }

  /** Whether the proxy has finished setting up (it wrote {@code device_fqdn}). */
  public boolean isReady() {
    return hasDevice() && !fqdn.isEmpty();
  }

  /** The first label of the MagicDNS name, which is what the control plane granted as hostname. */
  public Optional<String> dnsLabel() {
    if (fqdn.isEmpty()) {
      return Optional.empty();
    }
    int dot = fqdn.indexOf('.');
    return Optional.of(dot < 0 ? fqdn : fqdn.substring(0, dot));
  }

  /**
   * The Ingress DNS name: {@code https_endpoint} when the proxy is new enough to write it (capver ≥ 109), else the
   * FQDN; empty when the tailnet cannot issue certificates.
   */
  public String ingressDnsName(String livePodUid) {
    boolean trustedCapVer = capVer >= 0 && !podUid.isEmpty() && podUid.equals(livePodUid);
    if (trustedCapVer && capVer >= 109 || (livePodUid == null && capVer >= 109)) {
      return NO_HTTPS.equalsIgnoreCase(httpsEndpoint) ? "" : httpsEndpoint;
    }
    return fqdn;
  }

  public static String decode(String b64) {
    if (b64 == null || b64.isEmpty()) {
      return "";
    }
    try {
      return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }
}
