package io.tailops.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Which objects can carry events of an earlier operator instance (and so need the adoption lookup). */
class EventRecorderTest {
  private final EventRecorder recorder = new EventRecorder(null,
      Clock.fixed(Instant.parse("2026-11-28T01:00:00.400Z"), ZoneOffset.UTC), "test");

  private static ServiceBuilder created(String timestamp) {
    return new ServiceBuilder().withNewMetadata().withName("web").withNamespace("default").withUid("u")
        .withCreationTimestamp(timestamp).endMetadata();
  }

  @Test
  void objectsCreatedAfterTheStartNeedNoLookup() {
    assertThat(recorder.createdSinceStart(created("2026-11-28T01:00:01Z").build())).isTrue();
  }

  @Test
  void olderObjectsAndObjectsOfTheSameSecondAreLookedUp() {
    assertThat(recorder.createdSinceStart(created("2026-11-28T00:59:59Z").build())).isFalse();
    assertThat(recorder.createdSinceStart(created("2026-11-28T01:00:00Z").build())).isFalse();
  }

  @Test
  void objectsWithoutOrWithAMalformedTimestampAreLookedUp() {
    assertThat(recorder.createdSinceStart(created(null).build())).isFalse();
    assertThat(recorder.createdSinceStart(created("yesterday").build())).isFalse();
  }
}
