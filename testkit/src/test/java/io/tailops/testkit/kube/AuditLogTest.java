package io.tailops.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.tailops.testkit.kube.AuditEvents.RequestKey;

/** The audit log parser on hand-written lines in kube-apiserver's JSON format (no server). */
class AuditLogTest {

  private static String event(String stage, String verb, String resource, String sub, String ns, String name,
      String user, String ua, int code, String at) {
    String ref = resource == null ? "" : ",\"objectRef\":{\"resource\":\"" + resource + "\""
        + (sub != null ? ",\"subresource\":\"" + sub + "\"" : "")
        + (ns != null ? ",\"namespace\":\"" + ns + "\"" : "")
        + (name != null ? ",\"name\":\"" + name + "\"" : "") + ",\"apiVersion\":\"v1\"}";
    String uri = resource == null ? "/version" : "/api/v1/namespaces/" + ns + "/" + resource;
    return "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"id-" + name
        + "\",\"stage\":\"" + stage + "\",\"requestURI\":\"" + uri + "\",\"verb\":\"" + verb
        + "\",\"user\":{\"username\":\"" + user + "\",\"groups\":[\"system:masters\",\"system:authenticated\"]},"
        + "\"sourceIPs\":[\"127.0.0.1\"],\"userAgent\":\"" + ua + "\"" + ref
        + ",\"responseStatus\":{\"metadata\":{},\"code\":" + code + "},\"requestReceivedTimestamp\":\"" + at
        + "\",\"stageTimestamp\":\"" + at + "\"}\n";
  }

  @Test
  void countsByVerbResourceAndUserAgentAndFiltersWindows(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("audit.log");
    String op = "tailscale-operator/0.1.0";
    Files.writeString(f,
        event("ResponseComplete", "create", "secrets", null, "tailscale", "ts-a", "op", op, 201,
            "2026-01-01T00:00:01.000001Z")
            + event("ResponseStarted", "watch", "secrets", null, "tailscale", "w", "op", op, 200,
                "2026-01-01T00:00:01.5Z")
            + event("ResponseComplete", "patch", "statefulsets", "status", "tailscale", "ts-a", "op", op, 200,
                "2026-01-01T00:00:02Z")
            + event("ResponseComplete", "get", "secrets", null, "tailscale", "ts-a", "op", op, 200,
                "2026-01-01T00:00:03Z")
            + event("ResponseComplete", "update", "leases", null, "kube-system", "kcm", "system:kube-controller-manager",
                "kube-controller-manager/v1.34.4", 200, "2026-01-01T00:00:04Z")
            + event("ResponseComplete", "get", null, null, null, "m", "tsop-admin", "tsop-testkit-launcher", 200,
                "2026-01-01T00:00:05Z"));
    AuditLog log = new AuditLog(f, null);

    AuditEvents all = log.all();
    assertThat(all.count()).as("ResponseStarted is not counted").isEqualTo(5);
    assertThat(all.writes().count()).isEqualTo(3);
    assertThat(all.byUserAgent("tailscale-operator").writes().countByVerbResourceUserAgent()).containsExactly(
        java.util.Map.entry(new RequestKey("create", "secrets", op), 1L),
        java.util.Map.entry(new RequestKey("patch", "statefulsets/status", op), 1L));
    assertThat(all.excludingControlPlane().count()).isEqualTo(3);
    assertThat(all.byResource("statefulsets").list()).singleElement()
        .satisfies(e -> assertThat(e.resourceKey()).isEqualTo("statefulsets/status"));
    assertThat(all.filter(e -> !e.isResourceRequest()).list()).singleElement()
        .satisfies(e -> assertThat(e.resourceKey()).isEqualTo("/version"));
    assertThat(log.between(Instant.parse("2026-01-01T00:00:02Z"), Instant.parse("2026-01-01T00:00:04Z"))
        .stream().map(AuditEvent::verb)).containsExactly("patch", "get");
    assertThat(all.summary()).contains("create", "statefulsets/status", op);

    AuditLog.Mark mark = log.mark();
    assertThat(log.since(mark).isEmpty()).isTrue();
    // a line being written (no newline yet) is not read; it is once complete
    String next = event("ResponseComplete", "delete", "secrets", null, "tailscale", "ts-a", "op", op, 200,
        "2026-01-01T00:00:06Z");
    Files.writeString(f, next.substring(0, 40), StandardOpenOption.APPEND);
    assertThat(log.since(mark).isEmpty()).isTrue();
    assertThat(log.mark().offset()).isEqualTo(mark.offset());
    Files.writeString(f, next.substring(40), StandardOpenOption.APPEND);
    List<AuditEvent> after = log.since(mark).list();
    assertThat(after).singleElement().satisfies(e -> {
      assertThat(e.verb()).isEqualTo("delete");
      assertThat(e.isWrite()).isTrue();
      assertThat(e.groups()).contains("system:masters");
    });
  }

  @Test
  void aMissingFileIsEmpty(@TempDir Path dir) {
    AuditLog log = new AuditLog(dir.resolve("none.log"), null);
    assertThat(log.all().isEmpty()).isTrue();
    assertThat(log.mark().offset()).isZero();
  }
}
