package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderStatus;
import io.tailops.api.v1alpha1.RecorderTailnetDevice;
import io.tailops.operator.status.Conditions;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * The status of a Recorder: the official {@code RecorderReady} condition with upstream's reasons and messages, and the
 * devices. Pure.
 */
public final class RecorderStatusProjection {
  /** Provisioned (upstream writes the reason as the message too). */
  public static final String CREATED = "RecorderCreated";
  /** Could not be provisioned (an auth key, an object write). */
  public static final String CREATION_FAILED = "RecorderCreationFailed";
  /** A write raced another writer; retried. */
  public static final String CREATING = "RecorderCreating";
  /** The spec is rejected. */
  public static final String INVALID = "RecorderInvalid";

  private RecorderStatusProjection() {
  }

  /** The condition message of an invalid Recorder. */
  public static String invalidMessage(String problem) {
    return "Recorder is invalid: " + problem;
  }

  /** The condition message of a Recorder that could not be provisioned. */
  public static String failedMessage(String problem) {
    return "failed creating Recorder: " + problem;
  }

  /**
   * {@code r}'s status with the condition set as given and, when not null, the devices replaced.
   *
   * @param devices null to keep the live devices (upstream keeps them when it stops before reading them)
   */
  public static RecorderStatus status(Recorder r, boolean ready, String reason, String message,
      List<RecorderTailnetDevice> devices, Clock clock) {
    RecorderStatus live = r.getStatus() == null ? new RecorderStatus() : r.getStatus();
    RecorderStatus out = new RecorderStatus();
    out.setConditions(Conditions.set(live.getConditions(), ConditionTypes.RECORDER_READY, ready, reason, message,
        r.getMetadata().getGeneration(), clock));
    out.setDevices(devices == null ? live.getDevices() : devices.isEmpty() ? null : devices);
    return out;
  }

  /** Whether two statuses say the same. */
  public static boolean same(RecorderStatus a, RecorderStatus b) {
    List<Condition> ca = a == null ? List.of() : a.getConditions();
    List<Condition> cb = b == null ? List.of() : b.getConditions();
    return Conditions.same(ca, cb) && devicesOf(a).equals(devicesOf(b));
  }

  private static List<List<Object>> devicesOf(RecorderStatus s) {
    if (s == null || s.getDevices() == null) {
      return List.of();
    }
    return s.getDevices().stream().map(d -> List.<Object>of(Objects.toString(d.getHostname(), ""),
        d.getTailnetIPs() == null ? List.of() : d.getTailnetIPs(), Objects.toString(d.getUrl(), ""))).toList();
  }
}
