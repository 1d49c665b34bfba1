package io.tailops.operator.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records Kubernetes Events (core/v1) on the objects users look at. Repeats of the same event on the same object
 * within {@link #DEDUP_WINDOW} only bump the count, as kubectl's recorder does. Failures to record are logged and
 * never fail a reconcile. Messages must never contain secrets.
 */
public class EventRecorder implements EventSink {
  public static final String COMPONENT = "tailscale-operator";
  static final Duration DEDUP_WINDOW = Duration.ofMinutes(10);
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  private static final int MAX_TRACKED = 4096;

  private final KubernetesClient client;
  private final Clock clock;
  private final String instance;
  private final AtomicLong sequence = new AtomicLong();
  /** When this recorder started: objects created later cannot have events of an earlier operator instance. */
  private final Instant started;
  private final Map<String, Recent> recent = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Recent> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  private record Recent(String eventName, String namespace, int count, Instant last) {
  }

  public EventRecorder(KubernetesClient client, Clock clock, String instance) {
    this.client = client;
    this.clock = clock;
    this.instance = instance == null || instance.isEmpty() ? COMPONENT : instance;
    this.started = clock.instant();
  }

  /**
   * Whether the API server created {@code obj} after this recorder started (its timestamp has whole seconds, so an
   * object of the same second counts as older: the safe side).
   */
  boolean createdSinceStart(HasMetadata obj) {
    String created = obj.getMetadata().getCreationTimestamp();
    if (created == null) {
      return false;
    }
    try {
      return Instant.parse(created).isAfter(started);
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void record(HasMetadata obj, String type, String reason, String message) {
    if (obj == null || obj.getMetadata() == null) {
      return;
    }
    String ns = obj.getMetadata().getNamespace() == null ? "default" : obj.getMetadata().getNamespace();
    String key = obj.getMetadata().getUid() + "|" + type + "|" + reason + "|" + message;
    Instant now = clock.instant();
    String ts = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS));
    try {
      Recent r;
      synchronized (recent) {
        r = recent.get(key);
      }
      if (r != null && Duration.between(r.last(), now).compareTo(DEDUP_WINDOW) < 0) {
        int count = r.count() + 1;
        client.v1().events().inNamespace(r.namespace()).withName(r.eventName())
            .edit(e -> new EventBuilder(e).withCount(count).withLastTimestamp(ts).build());
        synchronized (recent) {
          recent.put(key, new Recent(r.eventName(), r.namespace(), count, now));
        }
        return;
      }
      if (r == null && obj.getMetadata().getUid() != null && !createdSinceStart(obj)) {
        // After a restart the memory is empty: adopt an identical recent event instead of recording it again. (Not
        // for objects created since this recorder started: no earlier instance can have recorded events on them, and
        // the lookup would cost a LIST per event of every new object.)
        var existing = client.v1().events().inNamespace(ns)
            .withField("involvedObject.uid", obj.getMetadata().getUid()).withField("reason", reason).list().getItems()
            .stream().filter(e -> message.equals(e.getMessage()) && type.equals(e.getType())).findFirst();
        if (existing.isPresent()) {
          synchronized (recent) {
            recent.put(key, new Recent(existing.get().getMetadata().getName(), ns,
                existing.get().getCount() == null ? 1 : existing.get().getCount(), now));
          }
          return;
        }
      }
      String name = obj.getMetadata().getName() + "." + Long.toHexString(now.toEpochMilli() * 1000
          + sequence.incrementAndGet() % 1000);
      client.v1().events().inNamespace(ns).resource(new EventBuilder()
          .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
          .withInvolvedObject(new ObjectReferenceBuilder()
              .withApiVersion(obj.getApiVersion())
              .withKind(obj.getKind())
              .withNamespace(obj.getMetadata().getNamespace())
              .withName(obj.getMetadata().getName())
              .withUid(obj.getMetadata().getUid())
              .withResourceVersion(obj.getMetadata().getResourceVersion())
              .build())
          .withType(type)
          .withReason(reason)
          .withMessage(message)
          .withCount(1)
          .withFirstTimestamp(ts)
          .withLastTimestamp(ts)
          .withReportingComponent(COMPONENT)
          .withReportingInstance(instance)
          .withNewSource().withComponent(COMPONENT).endSource()
          .build()).create();
      synchronized (recent) {
        recent.put(key, new Recent(name, ns, 1, now));
      }
    } catch (Exception e) {
      LOG.warn("could not record event {} on {}/{}: {}", reason, ns, obj.getMetadata().getName(), e.getMessage());
    }
  }
}
