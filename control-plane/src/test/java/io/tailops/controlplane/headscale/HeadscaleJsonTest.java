package io.tailops.controlplane.headscale;

import io.tailops.controlplane.JsonSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.TailnetPolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Payload mapping, error classification and the API key file, without a server. */
class HeadscaleJsonTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void errorBodiesOfEveryShape() {
    HeadscaleJson.ErrorBody grpc = HeadscaleJson.errorBody(b("{\"code\":5,\"message\":\"node not found\",\"details\":[]}"));
    assertThat(grpc).isEqualTo(new HeadscaleJson.ErrorBody(5, "node not found", true));
    HeadscaleJson.ErrorBody problem = HeadscaleJson.errorBody(b("{\"type\":\"about:blank\",\"title\":\"Not Found\","
        + "\"status\":404,\"detail\":\"node 7 not found\"}"));
    assertThat(problem).isEqualTo(new HeadscaleJson.ErrorBody(null, "node 7 not found", true));
    assertThat(HeadscaleJson.errorBody(b("Unauthorized\n"))).isEqualTo(
        new HeadscaleJson.ErrorBody(null, "Unauthorized", false));
    assertThat(HeadscaleJson.errorBody(b("404 page not found\n")).json()).isFalse();
    assertThat(HeadscaleJson.errorBody(b("<html><body>Bad gateway</body></html>")).message()).isNull();
    assertThat(HeadscaleJson.errorBody(new byte[0])).isEqualTo(new HeadscaleJson.ErrorBody(null, null, false));
  }

  @Test
  void classification() {
    assertThat(HeadscaleControlPlane.kindOf(401, null, "Unauthorized")).isEqualTo(Kind.UNAUTHORIZED);
    assertThat(HeadscaleControlPlane.kindOf(400, 3, "tag should be lowercase")).isEqualTo(Kind.TAG_NOT_PERMITTED);
    assertThat(HeadscaleControlPlane.kindOf(400, 3, "type mismatch, parameter: node_id")).isEqualTo(Kind.BAD_REQUEST);
    assertThat(HeadscaleControlPlane.kindOf(404, 5, "node not found")).isEqualTo(Kind.NOT_FOUND);
    assertThat(HeadscaleControlPlane.kindOf(500, 2, "auth-key must be either tagged or owned by user"))
        .isEqualTo(Kind.BAD_REQUEST);
    assertThat(HeadscaleControlPlane.kindOf(500, 2, "reading policy from path \"\": open : no such file"))
        .isEqualTo(Kind.UNSUPPORTED);
    assertThat(HeadscaleControlPlane.kindOf(500, 2, "database is locked")).isEqualTo(Kind.SERVER_ERROR);
    assertThat(HeadscaleControlPlane.kindOf(503, null, null)).isEqualTo(Kind.SERVER_ERROR);
    assertThat(HeadscaleControlPlane.kindOf(501, 12, "not implemented")).isEqualTo(Kind.UNSUPPORTED);
    assertThat(HeadscaleControlPlane.kindOf(429, null, null)).isEqualTo(Kind.RATE_LIMITED);

    assertThat(HeadscaleControlPlane.isRetriable(500, b("{\"code\":2,\"message\":\"database is locked\"}"))).isTrue();
    assertThat(HeadscaleControlPlane.isRetriable(502, b("<html>bad gateway</html>"))).isTrue();
    assertThat(HeadscaleControlPlane.isRetriable(429, null)).isTrue();
    assertThat(HeadscaleControlPlane.isRetriable(500,
        b("{\"code\":2,\"message\":\"auth-key must be either tagged or owned by user\"}"))).isFalse();
    assertThat(HeadscaleControlPlane.isRetriable(500, b("{\"code\":3,\"message\":\"bad\"}"))).isFalse();
    assertThat(HeadscaleControlPlane.isRetriable(501, null)).isFalse();
    assertThat(HeadscaleControlPlane.isRetriable(404, null)).isFalse();
  }

  @Test
  void nodesBecomeDevices() {
    var node = JsonSupport.readObject(b("""
        {"id":"4","name":"default-nginx","givenName":"default-nginx-1","ipAddresses":["100.64.0.4","fd7a:115c:a1e0::4"],
         "tags":["tag:k8s"],"online":true,"lastSeen":"2026-07-01T10:00:00Z","createdAt":"2026-07-01T09:00:00Z",
         "expiry":null,"user":{"id":"2147455555","name":"tagged-devices"},"registerMethod":"REGISTER_METHOD_AUTH_KEY"}
        """), JsonSupport.MAPPER);
    Device d = HeadscaleJson.toDevice(node, "tailnet.test");
    assertThat(d).isEqualTo(new Device("4", "4", "default-nginx-1.tailnet.test", "default-nginx",
        List.of("100.64.0.4", "fd7a:115c:a1e0::4"), List.of("tag:k8s"), Instant.parse("2026-07-01T10:00:00Z"), true,
        Instant.parse("2026-07-01T09:00:00Z")));
    assertThat(HeadscaleJson.toDevice(node, null).name()).isEqualTo("default-nginx-1");

    // v0.27 and older: forcedTags/validTags instead of tags; zero time = never
    var old = JsonSupport.readObject(b("""
        {"id":"9","name":"n","givenName":"n","forcedTags":["tag:k8s"],"validTags":["tag:a"],"invalidTags":["tag:b"],
         "lastSeen":"0001-01-01T00:00:00Z"}
        """), JsonSupport.MAPPER);
    Device d2 = HeadscaleJson.toDevice(old, "x.test");
    assertThat(d2.tags()).containsExactly("tag:k8s", "tag:a");
    assertThat(d2.lastSeen()).isNull();
    assertThat(d2.online()).isNull();
  }

  @Test
  void huJsonPoliciesWithCommentsAndTrailingCommas() {
    var p = JsonSupport.readObject("""
        {
          // owners
          "tagOwners": {"tag:k8s": ["tag:k8s-operator",], "tag:k8s-operator": [],},
          /* attributes */
          "nodeAttrs": [{"target": ["tag:k8s"], "attr": ["funnel"]},],
        }
        """, JsonSupport.HUJSON);
    TailnetPolicy policy = JsonSupport.toPolicy(p);
    assertThat(policy.tagOwnedBy("tag:k8s", "tag:k8s-operator")).isTrue();
    assertThat(policy.grantsAttr(List.of("tag:k8s"), "funnel")).isTrue();
  }

  @Test
  void redaction() {
    String key = "hskey-api-AbCdEfGhIjKl-secretsecretsecret";
    assertThat(HeadscaleControlPlane.redact("bad " + key + " and hskey-auth-XyZ-123 and tskey-auth-k1-abc", key))
        .isEqualTo("bad <redacted> and hskey-<redacted> and tskey-<redacted>");
    assertThat(FileApiKeySource.hint(key)).isEqualTo("hskey-api-AbCd…");
  }

  @Test
  void apiKeyFileRules(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("key");
    FileApiKeySource src = ApiKeySource.fromFile(f);
    assertThat(catchThrowableOfType(ControlPlaneException.class, src::current).kind())
        .isEqualTo(Kind.CREDENTIALS_UNAVAILABLE);
    Files.writeString(f, "hskey-api-AbCdEfGhIjKl-s3cr3t\r\n");
    assertThat(src.current()).isEqualTo("hskey-api-AbCdEfGhIjKl-s3cr3t");
    assertThat(src.describe()).contains("hskey-api-AbCd…").doesNotContain("s3cr3t");
    Files.writeString(f, "  \n");
    assertThat(catchThrowableOfType(ControlPlaneException.class, src::current).getMessage()).contains("is empty");
    Files.writeString(f, "REPLACE_ME");
    assertThat(catchThrowableOfType(ControlPlaneException.class, src::current).getMessage())
        .contains("placeholder");
  }
}
