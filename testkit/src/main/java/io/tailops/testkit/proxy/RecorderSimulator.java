package io.tailops.testkit.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays tsrecorder (whose image is not open source) for every Recorder replica in a namespace, as far as the operator
 * can see it: once the replica's StatefulSet asks for it and its auth-key Secret {@code <name>-auth-<i>} exists, the
 * replica logs in with that key (a device {@code <name>-<i>} in the fake control plane) and tailscaled's kube state
 * store writes {@code _current-profile} and the profile (prefs JSON with {@code Config.NodeID} and
 * {@code Config.UserProfile.LoginName}, the MagicDNS name) into the state Secret {@code <name>-<i>}. A replica whose
 * device was deleted logs in again only with a fresh key, as a real one would fail to.
 */
public final class RecorderSimulator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RecorderSimulator.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LABEL_APP = "app.kubernetes.io/name";
  private static final String CURRENT_PROFILE = "_current-profile";

  private final KubernetesClient client;
  private final String namespace;
  private final FakeTailscaleApi api;
  private final List<SharedIndexInformer<?>> informers = new java.util.ArrayList<>();
  private final ExecutorService worker;
  private volatile boolean running = true;
  /** Recorders whose replicas do not log in (their pods hang), by name. */
  private final java.util.Set<String> paused = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private RecorderSimulator(KubernetesClient client, String namespace, FakeTailscaleApi api) {
    this.client = client;
    this.namespace = namespace;
    this.api = api;
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "recorder-simulator");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts playing tsrecorder for every Recorder replica in {@code namespace}. */
  public static RecorderSimulator start(KubernetesClient client, String namespace, FakeTailscaleApi api) {
    RecorderSimulator sim = new RecorderSimulator(client, namespace, api);
    ResourceEventHandler<Object> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Object obj) {
        sim.touched();
      }

      @Override
      public void onUpdate(Object oldObj, Object newObj) {
        sim.touched();
      }

      @Override
      public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
      }
    };
    sim.informers.add(client.secrets().inNamespace(namespace).withLabel(LABEL_APP, "recorder")
        .inform(cast(handler), 0));
    sim.informers.add(client.apps().statefulSets().inNamespace(namespace).withLabel(LABEL_APP, "recorder")
        .inform(cast(handler), 0));
    return sim;
  }

  /** The replicas of Recorder {@code name} stop logging in (as pods that hang), until {@link #resume}. */
  public void pause(String name) {
    paused.add(name);
  }

  /** The replicas of Recorder {@code name} log in again (with the key their auth-key Secret holds then). */
  public void resume(String name) {
    paused.remove(name);
    touched();
  }

  @SuppressWarnings("unchecked")
  private static <T> ResourceEventHandler<T> cast(ResourceEventHandler<Object> h) {
    return (ResourceEventHandler<T>) (ResourceEventHandler<?>) h;
  }

  private void touched() {
    if (!running) {
      return;
    }
    try {
      worker.execute(this::pass);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  private void pass() {
    try {
      for (StatefulSet sts : client.apps().statefulSets().inNamespace(namespace).withLabel(LABEL_APP, "recorder")
          .list().getItems()) {
        int replicas = sts.getSpec().getReplicas() == null ? 1 : sts.getSpec().getReplicas();
        for (int i = 0; i < replicas; i++) {
          replica(sts.getMetadata().getName(), i);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("recorder simulator pass failed: {}", e.toString());
    }
  }

  private void replica(String name, int i) {
    if (paused.contains(name)) {
      return;
    }
    Secret state = client.secrets().inNamespace(namespace).withName(name + "-" + i).get();
    Secret auth = client.secrets().inNamespace(namespace).withName(name + "-auth-" + i).get();
    if (state == null || auth == null || auth.getData() == null || auth.getData().get("authkey") == null) {
      return;
    }
    Map<String, String> data = state.getData() == null ? Map.of() : state.getData();
    if (data.containsKey(CURRENT_PROFILE)) {
      return;
    }
    String key = new String(Base64.getDecoder().decode(auth.getData().get("authkey")), StandardCharsets.UTF_8);
    FakeDevice d;
    try {
      d = api.registerDevice(key, name + "-" + i);
    } catch (RuntimeException e) {
      LOG.debug("recorder {}-{}: login failed: {}", name, i, e.getMessage());
      return;
    }
    String profileKey = "profile-" + d.nodeId().toLowerCase(java.util.Locale.ROOT);
    Map<String, Object> prefs = Map.of("Config", Map.of("NodeID", d.nodeId(), "UserProfile",
        Map.of("LoginName", d.name())));
    Map<String, String> patch = new LinkedHashMap<>();
    try {
      patch.put(CURRENT_PROFILE, b64(profileKey));
      patch.put(profileKey, b64(JSON.writeValueAsString(prefs)));
      patch.put("_machinekey", b64("privkey:" + d.nodeId()));
      client.secrets().inNamespace(namespace).withName(name + "-" + i)
          .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(Map.of("data", patch)));
    } catch (KubernetesClientException e) {
      LOG.debug("recorder {}-{}: writing state failed: {}", name, i, e.getMessage());
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    running = false;
    informers.forEach(SharedIndexInformer::close);
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
