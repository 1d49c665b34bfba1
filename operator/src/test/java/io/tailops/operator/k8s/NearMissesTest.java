package io.tailops.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.status.Problem;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Near misses are told with the accepted form; exact forms and unrelated keys are not. */
class NearMissesTest {

  @Test
  void aBooleanOtherThanTrueOrFalseIsToldWithTheAcceptedForm() {
    for (String v : new String[] {"True", "yes", "1", "on", " true", "TRUE", "y", "enabled", "no", "False", "0"}) {
      assertThat(NearMisses.booleanValue(Map.of("tailscale.com/expose", v), "tailscale.com/expose",
          "the Service is not exposed")).as(v).hasValueSatisfying(p -> {
            assertThat(p.reason()).isEqualTo("AnnotationValueIgnored");
            assertThat(p.message()).startsWith("tailscale.com/expose: \"" + v + "\" is not \"true\", so the Service "
                + "is not exposed; the accepted values are \"true\" and \"false\"");
          });
    }
    assertThat(NearMisses.booleanValue(Map.of("k", "true"), "k", "x")).isEmpty();
    assertThat(NearMisses.booleanValue(Map.of("k", "false"), "k", "x")).isEmpty();
    assertThat(NearMisses.booleanValue(Map.of(), "k", "x")).isEmpty();
  }

  @Test
  void aClassThatDiffersOnlyInCaseIsTold() {
    for (String v : new String[] {"Tailscale", "TAILSCALE", "tailscale "}) {
      assertThat(NearMisses.classCase("spec.loadBalancerClass", v, "tailscale", "not served")).as(v)
          .hasValueSatisfying(p -> assertThat(p.message()).isEqualTo("spec.loadBalancerClass \"" + v + "\" is not "
              + "\"tailscale\" (class names are case-sensitive), so not served; use spec.loadBalancerClass: "
              + "tailscale"));
    }
    assertThat(NearMisses.classCase("f", "tailscale", "tailscale", "x")).isEmpty();
    assertThat(NearMisses.classCase("f", "example.com/other", "tailscale", "x")).isEmpty();
    assertThat(NearMisses.classCase("f", null, "tailscale", "x")).isEmpty();
  }

  @Test
  void annotationsOfTheOtherKindAndMisspeltKeysAreTold() {
    assertThat(NearMisses.misplaced("Ingress", Map.of("tailscale.com/hostname", "web", "tailscale.com/tags", "tag:a",
        "example.com/x", "y"), NearMisses.SERVICE_ONLY, "Service", Map.of("tailscale.com/hostname", "use TLS")))
        .containsExactly(Problem.warning("AnnotationIgnored", "tailscale.com/hostname is read on Services only; this "
            + "Ingress ignores it: use TLS"));
    assertThat(NearMisses.misplaced("Service", Map.of("tailscale.com/exposed", "true"), NearMisses.INGRESS_ONLY,
        "Ingress", Map.of())).containsExactly(Problem.warning("AnnotationIgnored", "unknown annotation "
        + "tailscale.com/exposed, ignored; did you mean tailscale.com/expose?"));
    assertThat(NearMisses.misplaced("Service", Map.of("tailscale.com/hostnme", "x"), NearMisses.INGRESS_ONLY,
        "Ingress", Map.of())).extracting(Problem::message).containsExactly("unknown annotation tailscale.com/hostnme, "
        + "ignored; did you mean tailscale.com/hostname?");
    // A key that is nothing like ours is someone else's.
    assertThat(NearMisses.misplaced("Service", Map.of("tailscale.com/some-future-feature", "x"),
        NearMisses.INGRESS_ONLY, "Ingress", Map.of())).isEmpty();
  }
}
