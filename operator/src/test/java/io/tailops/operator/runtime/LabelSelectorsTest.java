package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelSelectorsTest {
  private static final Map<String, String> PROXY = Map.of("tailscale.com/managed", "true",
      "tailscale.com/parent-resource-type", "svc");

  @Test
  void emptySelectsEverything() {
    assertThat(LabelSelectors.matches(null, null)).isTrue();
    assertThat(LabelSelectors.matches(" ", PROXY)).isTrue();
  }

  @Test
  void equalityAndInequality() {
    assertThat(LabelSelectors.matches("tailscale.com/managed=true", PROXY)).isTrue();
    assertThat(LabelSelectors.matches("tailscale.com/managed==true", PROXY)).isTrue();
    assertThat(LabelSelectors.matches("tailscale.com/managed!=true", PROXY)).isFalse();
    assertThat(LabelSelectors.matches("tailscale.com/managed!=true", Map.of())).isTrue();
    assertThat(LabelSelectors.matches("tailscale.com/managed=true", Map.of())).isFalse();
  }

  @Test
  void setsAndExistenceJoinedByCommasOutsideParentheses() {
    String sel = "tailscale.com/managed=true,tailscale.com/parent-resource-type in (svc, ingress)";
    assertThat(LabelSelectors.requirements(sel)).hasSize(2);
    assertThat(LabelSelectors.matches(sel, PROXY)).isTrue();
    assertThat(LabelSelectors.matches("tailscale.com/parent-resource-type notin (svc,ingress)", PROXY)).isFalse();
    assertThat(LabelSelectors.matches("tailscale.com/parent-resource-type notin (connector)", PROXY)).isTrue();
    assertThat(LabelSelectors.matches("x notin (a)", Map.of())).isTrue();
    assertThat(LabelSelectors.matches("tailscale.com/managed", PROXY)).isTrue();
    assertThat(LabelSelectors.matches("!tailscale.com/managed", PROXY)).isFalse();
    assertThat(LabelSelectors.matches("tailscale.com/managed,!other", PROXY)).isTrue();
  }

  @Test
  void nonsenseIsRefused() {
    assertThatThrownBy(() -> LabelSelectors.matches("a b c", PROXY)).isInstanceOf(IllegalArgumentException.class);
  }
}
