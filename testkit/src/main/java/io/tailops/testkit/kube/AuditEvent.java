package io.tailops.testkit.kube;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One request as the API server's audit log records it (policy level {@code Metadata}, stage
 * {@code ResponseComplete} or {@code Panic}; one event per request).
 *
 * @param resource    {@code objectRef.resource}, e.g. {@code configmaps}; {@code null} for non-resource requests
 *                    such as {@code /version}
 * @param subresource e.g. {@code status}; {@code null} if none
 * @param code        the HTTP status code of the response, 0 if unknown
 * @param impersonatedUser the user {@code username} acted as ({@code Impersonate-User}, once the API server allowed
 *                    it; its RBAC then decided the request); {@code null} if none
 * @param credentialId the credential the request was authenticated with, as the API server records it in
 *                    {@code user.extra["authentication.kubernetes.io/credential-id"]} (for a ServiceAccount token,
 *                    {@code JTI=<the token's jti>}): tells two clients of one account apart; {@code null} if none
 */
public record AuditEvent(
    String auditId,
    String stage,
    String verb,
    String requestUri,
    String username,
    List<String> groups,
    String userAgent,
    String apiGroup,
    String apiVersion,
    String resource,
    String subresource,
    String namespace,
    String name,
    int code,
    Instant requestReceived,
    Instant stageTimestamp,
    String impersonatedUser,
    String credentialId) {

  /** The verbs that change state. */
  public static final Set<String> WRITE_VERBS = Set.of("create", "update", "patch", "delete", "deletecollection");

  public boolean isWrite() {
    return WRITE_VERBS.contains(verb);
  }

  public boolean isResourceRequest() {
    return resource != null;
  }

  /** {@code resource} or {@code resource/subresource}; the URI path for non-resource requests. */
  public String resourceKey() {
    if (resource == null) {
      int q = requestUri == null ? -1 : requestUri.indexOf('?');
      return q < 0 ? requestUri : requestUri.substring(0, q);
    }
    return subresource == null ? resource : resource + "/" + subresource;
  }

  /** True if the request succeeded (2xx). */
  public boolean succeeded() {
    return code >= 200 && code < 300;
  }

  static AuditEvent fromJson(JsonNode n) {
    JsonNode user = n.path("user");
    JsonNode ref = n.path("objectRef");
    List<String> groups = new java.util.ArrayList<>();
    user.path("groups").forEach(g -> groups.add(g.asText()));
    return new AuditEvent(
        text(n, "auditID"),
        text(n, "stage"),
        text(n, "verb"),
        text(n, "requestURI"),
        text(user, "username"),
        List.copyOf(groups),
        text(n, "userAgent"),
        text(ref, "apiGroup"),
        text(ref, "apiVersion"),
        text(ref, "resource"),
        text(ref, "subresource"),
        text(ref, "namespace"),
        text(ref, "name"),
        n.path("responseStatus").path("code").asInt(0),
        instant(text(n, "requestReceivedTimestamp")),
        instant(text(n, "stageTimestamp")),
        text(n.path("impersonatedUser"), "username"),
        user.path("extra").path("authentication.kubernetes.io/credential-id").path(0).isMissingNode() ? null
            : user.path("extra").path("authentication.kubernetes.io/credential-id").path(0).asText());
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Instant instant(String s) {
    return s == null ? null : Instant.parse(s);
  }

  @Override
  public String toString() {
    return verb + " " + resourceKey() + (namespace != null ? " ns=" + namespace : "")
        + (name != null ? " name=" + name : "") + " code=" + code + " user=" + username
        + (impersonatedUser != null ? " as=" + impersonatedUser : "") + " ua=" + userAgent;
  }
}
