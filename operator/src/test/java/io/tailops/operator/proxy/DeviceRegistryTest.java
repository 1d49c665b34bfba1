package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The registry of devices: what it records, what survives a failed write, and what another writer added. */
class DeviceRegistryTest {
  /** A store that may fail, and to which another writer (a second replica of the operator) adds entries. */
  static final class Store implements DeviceRegistry.Store {
    final Map<String, String> data = new HashMap<>();
    boolean failing;
    int writes;

    @Override
    public Map<String, String> read() {
      return Map.copyOf(data);
    }

    @Override
    public Map<String, String> patch(Map<String, String> set, Set<String> remove) {
      if (failing) {
        throw new IllegalStateException("API server unavailable");
      }
      writes++;
      data.putAll(set);
      remove.forEach(data::remove);
      return Map.copyOf(data);
    }
  }

  static final ParentRef WEB = new ParentRef("svc", "default", "web", "uid-1");

  @Test
  void recordsOneLinePerDeviceAndFindsItByReplicaAndParent() {
    Store store = new Store();
    DeviceRegistry r = new DeviceRegistry(store, null);
    r.record("nABC123CNTRL", "ts-web-x7k2p-0", WEB, "web");
    r.record("nABC123CNTRL", "ts-web-x7k2p-0", WEB, "web");
    assertThat(store.writes).isEqualTo(1);
    assertThat(store.data).containsExactly(Map.entry("nABC123CNTRL", "ts-web-x7k2p-0 svc/default/web web"));
    assertThat(r.owns("nABC123CNTRL")).isTrue();
    assertThat(r.ofReplica("ts-web-x7k2p-0")).extracting(DeviceRegistry.Entry::deviceId).containsExactly(
        "nABC123CNTRL");
    assertThat(r.ofParent(new ParentRef("svc", "default", "web", null))).hasSize(1);
    assertThat(r.ofParent(new ParentRef("svc", "other", "web", null))).isEmpty();
    r.forget("nABC123CNTRL");
    assertThat(store.data).isEmpty();
    assertThat(r.owns("nABC123CNTRL")).isFalse();
  }

  @Test
  void aFailedWriteIsKeptAndWrittenWithTheNextOne() {
    Store store = new Store();
    DeviceRegistry r = new DeviceRegistry(store, null);
    store.failing = true;
    r.record("n1", "ts-a-bcdfg-0", WEB, "a");
    assertThat(r.owns("n1")).isTrue();
    store.failing = false;
    r.record("n2", "ts-b-bcdfg-0", WEB, "b");
    assertThat(store.data).containsOnlyKeys("n1", "n2");
  }

  @Test
  void entriesAnotherWriterAddedAreKeptAndSeenAfterALoad() {
    Store store = new Store();
    DeviceRegistry r = new DeviceRegistry(store, null);
    store.data.put("n-other", "ts-o-bcdfg-0 ingress/apps/site site");
    r.record("n1", "ts-a-bcdfg-0", WEB, "a");
    assertThat(store.data).containsOnlyKeys("n1", "n-other");
    assertThat(r.owns("n-other")).isTrue();
    store.data.put("n-later", "ts-l-bcdfg-0 connector//office office-connector");
    r.load();
    assertThat(r.entry("n-later")).hasValueSatisfying(e -> {
      assertThat(e.parent()).isEqualTo(new ParentRef("connector", "", "office", null));
      assertThat(e.hostname()).isEqualTo("office-connector");
    });
    store.data.put("garbage", "not an entry");
    r.load();
    assertThat(r.all()).extracting(DeviceRegistry.Entry::deviceId).containsExactlyInAnyOrder("n1", "n-other",
        "n-later");
  }

  @Test
  void longParentNamesAreKeptAsTheirLabelForm() {
    DeviceRegistry r = DeviceRegistry.inMemory();
    String longName = "x".repeat(120) + ".example.com";
    r.record("n1", "ts-x-bcdfg-0", new ParentRef("ingress", "apps", longName, "u"), "x");
    assertThat(r.ofParent(new ParentRef("ingress", "apps", longName, null))).hasSize(1);
    assertThat(r.ofParent(new ParentRef("ingress", "apps", DerivedNames.labelValue(longName), null))).hasSize(1);
    assertThat(List.of(r.entry("n1").orElseThrow().name())).allSatisfy(n -> assertThat(n).hasSizeLessThanOrEqualTo(
        63));
  }
}
