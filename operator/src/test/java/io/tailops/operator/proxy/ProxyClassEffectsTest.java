package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import org.junit.jupiter.api.Test;

/** What each proxy container reads decides which ProxyClass settings do nothing (issue 13 item 6). */
class ProxyClassEffectsTest {

  static ProxyClass pc(String spec) {
    return Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\nmetadata: {name: p}\n"
        + "spec:\n  " + spec + "\n", ProxyClass.class);
  }

  @Test
  void envOnTheInitContainerDoesNothingAndAdvertisedTagsSayWhereTagsComeFrom() {
    assertThat(ProxyClassEffects.findings(pc("statefulSet: {pod: {tailscaleInitContainer: {env: [{name: "
        + "TS_EXTRA_ARGS, value: \"--advertise-tags=tag:prod\"}]}}}"))).singleElement().satisfies(f -> assertThat(f)
        .startsWith("spec.statefulSet.pod.tailscaleInitContainer.env [TS_EXTRA_ARGS] has no effect: the init "
            + "container (sysctler)").endsWith("; and " + ProxyClassEffects.TAGS));
    assertThat(ProxyClassEffects.findings(pc("statefulSet: {pod: {tailscaleInitContainer: {env: [{name: FOO, value: "
        + "bar}]}}}"))).singleElement().satisfies(f -> assertThat(f).contains("[FOO] has no effect")
        .doesNotContain("tags come from"));
  }

  @Test
  void variablesContainerbootRefusesNextToAConfigFileAreTold() {
    for (String v : new String[] {"TS_HOSTNAME", "TS_EXTRA_ARGS", "TS_AUTHKEY", "TS_ROUTES", "TS_ACCEPT_DNS"}) {
      assertThat(ProxyClassEffects.findings(pc("statefulSet: {pod: {tailscaleContainer: {env: [{name: " + v
          + ", value: x}]}}}"))).as(v).singleElement().satisfies(f -> assertThat(f).startsWith(
              "spec.statefulSet.pod.tailscaleContainer.env " + v + " breaks the proxy"));
    }
    assertThat(ProxyClassEffects.findings(pc("statefulSet: {pod: {tailscaleContainer: {env: [{name: TS_EXTRA_ARGS, "
        + "value: \"--advertise-tags=tag:a\"}]}}}")).get(0)).endsWith("(" + ProxyClassEffects.TAGS + ")");
  }

  @Test
  void settingsThatWorkAreNotTold() {
    assertThat(ProxyClassEffects.findings(pc("statefulSet: {pod: {tailscaleContainer: {env: [{name: TS_DEBUG_MTU, "
        + "value: \"1200\"}, {name: FOO, value: bar}, {name: ts_hostname, value: x}]}, tailscaleInitContainer: "
        + "{image: \"busybox:1\"}}}"))).isEmpty();
    assertThat(ProxyClassEffects.findings(pc("metrics: {enable: true}"))).isEmpty();
    assertThat(ProxyClassEffects.warningsForUsers(pc("statefulSet: {pod: {tailscaleInitContainer: {env: [{name: A, "
        + "value: b}]}}}"))).singleElement().satisfies(p -> {
          assertThat(p.reason()).isEqualTo(ProxyClassEffects.REASON);
          assertThat(p.type()).isEqualTo("Warning");
          assertThat(p.message()).startsWith("ProxyClass p: spec.statefulSet.pod.tailscaleInitContainer.env [A]");
        });
  }
}
