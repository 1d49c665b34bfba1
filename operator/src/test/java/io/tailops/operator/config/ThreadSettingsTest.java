package io.tailops.operator.config;

import static io.tailops.operator.config.SecuritySettingsTest.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** OPERATOR_RECONCILE_THREADS, OPERATOR_DISPATCH_THREADS, OPERATOR_HTTP_THREADS. */
class ThreadSettingsTest {
  @Test
  void defaults() {
    assertThat(OperatorConfig.fromEnv(env()).threads()).isEqualTo(new ThreadSettings(8, 2, 2))
        .isEqualTo(ThreadSettings.DEFAULTS);
  }

  @Test
  void settingsAreRead() {
    assertThat(OperatorConfig.fromEnv(env("OPERATOR_RECONCILE_THREADS", "4", "OPERATOR_DISPATCH_THREADS", "3",
        "OPERATOR_HTTP_THREADS", "16")).threads()).isEqualTo(new ThreadSettings(4, 3, 16));
  }

  @Test
  void badValuesNameTheVariableAndTheRange() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_DISPATCH_THREADS", "0")))
        .hasMessage("OPERATOR_DISPATCH_THREADS=0 is not valid: use a whole number from 1 to 16");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_HTTP_THREADS", "two")))
        .hasMessage("OPERATOR_HTTP_THREADS=two is not valid: use a whole number from 1 to 16");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(env("OPERATOR_RECONCILE_THREADS", "65",
        "OPERATOR_DISPATCH_THREADS", "17")))
        .hasMessage("OPERATOR_RECONCILE_THREADS=65 is not valid: use a whole number from 1 to 64\n"
            + "OPERATOR_DISPATCH_THREADS=17 is not valid: use a whole number from 1 to 16");
    assertThatThrownBy(() -> new ThreadSettings(1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
