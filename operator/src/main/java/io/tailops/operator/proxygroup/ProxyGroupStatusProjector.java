package io.tailops.operator.proxygroup;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupStatus;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.api.v1alpha1.TailnetDevice;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.status.Conditions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A ProxyGroup's status from its replicas (official behaviour, {@code proxygroup.go} {@code maybeUpdateStatus}): one
 * {@code status.devices} entry per replica whose current pod has reported its device (hostname from
 * {@code device_fqdn}, tailnet IPs), {@code ProxyGroupAvailable} (True as soon as one replica runs; reason
 * {@code ProxyGroupAvailable} once all do, message {@code <n>/<N> ProxyGroup pods running}) and
 * {@code ProxyGroupReady} (True when every replica runs; else why not). Beyond the official messages, a group that is
 * not ready says for each replica that is not running why: its pod does not exist, cannot be scheduled, cannot pull
 * its image or crash-loops, is logging in, or was logged out.
 */
public final class ProxyGroupStatusProjector {
  public static final String REASON_READY = "ProxyGroupReady";
  public static final String REASON_AVAILABLE = "ProxyGroupAvailable";
  public static final String REASON_CREATING = "ProxyGroupCreating";
  public static final String REASON_CREATION_FAILED = "ProxyGroupCreationFailed";

  private ProxyGroupStatusProjector() {
  }

  /** Why the group is not ready before its replicas are even looked at (a gate), or null. */
  public record Blocker(String reason, String message) {
  }

  /**
   * @param replicas the replicas' state, in ordinal order (surplus replicas still shutting down included)
   * @param pods the group's pods by name
   * @param blocker what stopped provisioning, or null
   */
  public static ProxyGroupStatus project(ProxyGroup pg, int desiredReplicas, List<ReplicaState> replicas,
      Map<String, Pod> pods, Blocker blocker, Clock clock) {
    ProxyGroupStatus current = pg.getStatus() == null ? new ProxyGroupStatus() : pg.getStatus();
    List<TailnetDevice> devices = new ArrayList<>();
    List<String> notRunning = new ArrayList<>();
    for (ReplicaState r : replicas) {
      String podName = r.secretName();
      Pod pod = pods.get(podName);
      String why = whyNotRunning(r, pod);
      if (why == null) {
        DeviceState d = r.device();
        devices.add(new TailnetDevice(d.dnsLabel().orElse(d.fqdn()), d.ips().isEmpty() ? null : d.ips()));
      } else if (ordinal(podName) < desiredReplicas) {
        notRunning.add(podName + ": " + why);
      }
    }
    for (int i = replicas.size(); i < desiredReplicas; i++) {
      String podName = ProxyGroupNames.podName(pg.getMetadata().getName(), i);
      if (replicas.stream().noneMatch(r -> r.secretName().equals(podName))) {
        notRunning.add(podName + ": not created yet");
      }
    }

    int n = devices.size();
    String running = n + "/" + desiredReplicas + " ProxyGroup pods running";
    List<Condition> conditions = Conditions.set(current.getConditions(), ConditionTypes.PROXY_GROUP_AVAILABLE, n > 0,
        n > 0 && n == desiredReplicas ? REASON_AVAILABLE : REASON_CREATING, running, null, clock);

    boolean ready = false;
    String reason = REASON_CREATING;
    String message;
    boolean apiServerProxy = pg.getSpec() != null && pg.getSpec().getType() == ProxyGroupType.KUBE_APISERVER;
    boolean serviceInvalid = apiServerProxy && Conditions.find(current.getConditions(),
        ConditionTypes.KUBE_API_SERVER_PROXY_VALID).map(c -> "False".equals(c.getStatus())).orElse(false);
    String service = apiServerProxy ? ProxyGroupNames.apiServerProxyService(pg) : null;
    if (blocker != null) {
      reason = blocker.reason();
      message = blocker.message();
    } else if (serviceInvalid) {
      reason = ProxyGroupPlanner.REASON_INVALID;
      message = "waiting for config in spec.kubeAPIServer to be marked valid";
    } else if (n < desiredReplicas) {
      message = running + (notRunning.isEmpty() ? "" : "; " + String.join("; ", notRunning));
    } else if (n > desiredReplicas) {
      message = "waiting for " + (n - desiredReplicas) + " ProxyGroup pods to shut down";
    } else if (apiServerProxy && replicas.stream().noneMatch(r -> r.advertisedServices().contains(service))) {
      message = "waiting for proxies to start advertising the kube-apiserver proxy's hostname";
    } else {
      ready = true;
      reason = REASON_READY;
      message = REASON_READY;
    }
    conditions = Conditions.set(conditions, ConditionTypes.PROXY_GROUP_READY, ready, reason, message,
        pg.getMetadata().getGeneration(), clock);
    ProxyGroupStatus out = new ProxyGroupStatus();
    out.setConditions(conditions);
    out.setDevices(devices.isEmpty() ? null : devices);
    out.setUrl(current.getUrl());
    return out;
  }

  /** Null when the replica runs: its current pod reported its device; else why not, for the user. */
  static String whyNotRunning(ReplicaState r, Pod pod) {
    DeviceState d = r.device();
    if (r.secret() == null) {
      return "its state Secret does not exist yet";
    }
    if (pod == null) {
      return "its pod does not exist" + (d.hasDevice() ? " (the StatefulSet controller recreates it)" : " yet");
    }
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      return "its pod is terminating";
    }
    boolean current = !d.podUid().isEmpty() && d.podUid().equalsIgnoreCase(pod.getMetadata().getUid());
    if (current && d.isReady()) {
      return null;
    }
    String podProblem = podProblem(pod);
    if (podProblem != null) {
      return podProblem;
    }
    if (!current) {
      return "its pod has not started the proxy yet";
    }
    if (!d.hasDevice()) {
      if (r.authKeyPending()) {
        return "the proxy is logging in to the tailnet";
      }
      if (!r.rememberedDeviceId().isEmpty()) {
        return "the proxy is logged out (its device " + r.rememberedDeviceId() + " is gone); the operator "
            + "re-registers it";
      }
      return "the proxy has not logged in and its config holds no auth key; the operator re-registers it";
    }
    return "the proxy has logged in (device " + d.deviceId() + ") and is setting up";
  }

  /** What keeps a pod from running its proxy, from its status (scheduling, image, crash loop), or null. */
  static String podProblem(Pod pod) {
    if (pod.getStatus() == null) {
      return null;
    }
    if (pod.getStatus().getConditions() != null) {
      for (PodCondition c : pod.getStatus().getConditions()) {
        if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())) {
          return "its pod cannot be scheduled" + (c.getMessage() == null ? "" : ": " + c.getMessage());
        }
      }
    }
    List<ContainerStatus> statuses = new ArrayList<>();
    if (pod.getStatus().getInitContainerStatuses() != null) {
      statuses.addAll(pod.getStatus().getInitContainerStatuses());
    }
    if (pod.getStatus().getContainerStatuses() != null) {
      statuses.addAll(pod.getStatus().getContainerStatuses());
    }
    for (ContainerStatus cs : statuses) {
      if (cs.getState() != null && cs.getState().getWaiting() != null
          && cs.getState().getWaiting().getReason() != null
          && !"ContainerCreating".equals(cs.getState().getWaiting().getReason())
          && !"PodInitializing".equals(cs.getState().getWaiting().getReason())) {
        var w = cs.getState().getWaiting();
        String last = "";
        if (cs.getLastState() != null && cs.getLastState().getTerminated() != null) {
          var t = cs.getLastState().getTerminated();
          last = " (restarted " + cs.getRestartCount() + " times; last exit " + t.getExitCode()
              + (t.getReason() == null ? "" : " " + t.getReason()) + "; see kubectl logs -n "
              + pod.getMetadata().getNamespace() + " " + pod.getMetadata().getName() + " -c " + cs.getName()
              + " --previous)";
        }
        return "container " + cs.getName() + " of its pod is waiting: " + w.getReason()
            + (w.getMessage() == null ? "" : ": " + w.getMessage()) + last;
      }
    }
    return null;
  }

  static int ordinal(String podName) {
    int dash = podName.lastIndexOf('-');
    try {
      return Integer.parseInt(podName.substring(dash + 1));
    } catch (RuntimeException e) {
      return Integer.MAX_VALUE;
    }
  }
}
