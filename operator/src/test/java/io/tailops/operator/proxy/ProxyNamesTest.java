package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProxyNamesTest {

  @Test
  void shortNamesKeepTheParentNameAndGetAFiveCharacterSuffix() {
    String name = ProxyNames.statefulSetName(new ParentRef("svc", "default", "web", "uid-1"));
    assertThat(name).matches("ts-web-[bcdfghjklmnpqrstvwxz2456789]{5}");
  }

  @Test
  void theSuffixIsStableForTheSameParentAndDiffersForAnother() {
    ParentRef a = new ParentRef("svc", "default", "web", "uid-1");
    assertThat(ProxyNames.statefulSetName(a)).isEqualTo(ProxyNames.statefulSetName(a));
    assertThat(ProxyNames.statefulSetName(a))
        .isNotEqualTo(ProxyNames.statefulSetName(new ParentRef("svc", "other", "web", "uid-2")));
  }

  @Test
  void a63CharacterParentIsCutTo43SoThatTheNameFitsIn52() {
    String parent = "a".repeat(63);
    String name = ProxyNames.statefulSetName(new ParentRef("svc", "default", parent, "u"));
    assertThat(name).hasSize(52).startsWith("ts-" + "a".repeat(43) + "-");
    // The pod name plus the controller-revision-hash label value must fit in 63 characters.
    assertThat((name + "-" + "0123456789").length()).isLessThanOrEqualTo(63);
  }

  @Test
  void secretNamesAreReplicaNames() {
    assertThat(ProxyNames.secretName("ts-web-x7k2p", 0)).isEqualTo("ts-web-x7k2p-0");
    assertThat(ProxyNames.statefulSetOfSecret("ts-web-x7k2p-0")).isEqualTo("ts-web-x7k2p");
  }
}
