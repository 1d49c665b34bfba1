package io.tailops.operator.recorder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * What a tsrecorder's state Secret tells about its device, read as the official operator reads it: tailscaled's
 * {@code _current-profile} names the key of the current profile (JSON prefs), whose {@code Config.NodeID} is the
 * device's stable ID and {@code Config.UserProfile.LoginName} its MagicDNS name (tsrecorder writes no
 * {@code device_*} keys, unlike containerboot).
 *
 * @param nodeId the device's stable node ID
 * @param magicDnsName its MagicDNS name, or empty when not known
 */
public record RecorderDeviceInfo(String nodeId, String magicDnsName) {
  /** The key naming the current profile's key. */
  public static final String CURRENT_PROFILE = "_current-profile";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The device of the state Secret {@code s}; empty when it has none yet (no profile, or a profile without node ID).
   *
   * @throws IllegalArgumentException when the profile is not JSON (the message names the Secret, not its content)
   */
  public static Optional<RecorderDeviceInfo> of(Secret s) {
    if (s == null || s.getData() == null) {
      return Optional.empty();
    }
    Map<String, String> data = s.getData();
    String profileKey = decode(data.get(CURRENT_PROFILE));
    if (profileKey == null) {
      return Optional.empty();
    }
    String profile = decode(data.get(profileKey));
    if (profile == null) {
      return Optional.empty();
    }
    JsonNode prefs;
    try {
      prefs = JSON.readTree(profile);
    } catch (IOException e) {
      throw new IllegalArgumentException("failed to extract node profile info from state Secret "
          + s.getMetadata().getName() + ": not JSON");
    }
    String nodeId = prefs.path("Config").path("NodeID").asText("");
    if (nodeId.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new RecorderDeviceInfo(nodeId, prefs.path("Config").path("UserProfile").path("LoginName")
        .asText("")));
  }

  /** {@code https://<MagicDNS name>}, where the UI is served; empty when the name is not known. */
  public Optional<String> url() {
    return magicDnsName.isEmpty() ? Optional.empty() : Optional.of("https://" + magicDnsName);
  }

  private static String decode(String base64) {
    return base64 == null ? null : new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
