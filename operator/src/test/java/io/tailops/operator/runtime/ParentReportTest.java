package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ServedParents;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every parent asked to be served reaches doctor, with or without a proxy (issue 13 item 8). */
class ParentReportTest {

  static ServedParents.Entry entry(String kind, String name, ServedParents.State state, String reason, String message,
      List<Problem> warnings) {
    return new ServedParents.Entry(kind, kind.equals("Service") ? "svc" : "ingress", "ns", name, state, reason,
        message, "h", "", false, null, warnings, Instant.EPOCH);
  }

  @Test
  void unservedParentsFailAndNearMissesWarnInDoctor() {
    String text = ParentReport.text(List.of(
        entry("Ingress", "no-backend", ServedParents.State.FAILED, "ProxyInvalid", "no valid\nbackends", List.of()),
        entry("Service", "ok", ServedParents.State.READY, "ProxyReady", "reachable", List.of()),
        entry("Service", "near", ServedParents.State.IGNORED, "AnnotationValueIgnored", "use \"true\"", List.of()),
        entry("Service", "warned", ServedParents.State.READY, "ProxyReady", "reachable",
            List.of(Problem.warning("ProxyClassSettingIgnored", "x"), Problem.warning("Other", "y")))));
    String[] lines = text.split("\n");
    assertThat(lines[0]).isEqualTo("3 asked to be served: 2 ready, 0 pending, 1 failed; 1 near misses ignored");
    assertThat(lines).hasSize(4);
    List<Doctor.Check> checks = java.util.Arrays.stream(lines).skip(1).map(ParentReport::check)
        .flatMap(java.util.Optional::stream).toList();
    assertThat(checks).extracting(Doctor.Check::name, Doctor.Check::status, Doctor.Check::detail).containsExactly(
        org.assertj.core.groups.Tuple.tuple("ingress ns/no-backend", Doctor.Status.FAIL,
            "not served: ProxyInvalid: no valid backends"),
        org.assertj.core.groups.Tuple.tuple("service ns/near", Doctor.Status.WARN,
            "ignored: AnnotationValueIgnored: use \"true\""),
        org.assertj.core.groups.Tuple.tuple("service ns/warned", Doctor.Status.WARN,
            "ready, but: ProxyClassSettingIgnored: x (and 1 more warnings in its events)"));
    assertThat(checks.get(0).fix()).isEqualTo("see its events: kubectl describe ingress -n ns no-backend");
  }

  @Test
  void aLongListIsCutInTheConfigMapOnly() {
    List<ServedParents.Entry> many = java.util.stream.IntStream.range(0, ParentReport.MAX_LINES + 5)
        .mapToObj(i -> entry("Ingress", "i" + i, ServedParents.State.FAILED, "R", "m", List.of())).toList();
    String[] lines = ParentReport.text(many).split("\n");
    assertThat(lines).hasSize(ParentReport.MAX_LINES + 2);
    assertThat(lines[lines.length - 1]).isEqualTo("... and 5 more (the status page lists them all)");
    assertThat(ParentReport.check(lines[lines.length - 1])).isEmpty();
  }
}
