package io.tailops.testkit.podrunner;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/**
 * A minimal kube-proxy for a {@link PodNetwork}: each TCP port of a Service (any namespace) whose cluster IP is in the
 * run's Service range and that has a registered backend ({@link #backend(String, String, int, InetSocketAddress)},
 * e.g. an HTTP server of the test on {@code 127.0.0.1:<any port>}) is relayed from {@code <cluster IP>:<port>} to it
 * by a {@link TcpRelay}, as kube-proxy's userspace mode did. The relay listens on the node address with a port the
 * kernel picks, and the network's service router sends {@code <cluster IP>:<port>} there
 * ({@link PodNetwork#mapServicePort}): no fixed port is bound on this machine. (Without a service router the cluster
 * IP is a local address on the bridge and the relay listens on {@code <cluster IP>:<port>} itself.) Without a
 * backend nothing is mapped, so a connection fails, as with a Service without endpoints.
 *
 * <p>Reached the same way from everywhere: the root namespace (userspace proxies, whose serve config proxies to
 * {@code http://<cluster IP>:<port>/}, and the operator) and every pod namespace (kernel-mode proxies DNAT tailnet
 * traffic to {@code TS_DEST_IP=<cluster IP>}; the packets leave through {@code eth0} to the service router).
 *
 * <p>A Service port without a registered backend is served from the Service's EndpointSlices (label
 * {@code kubernetes.io/service-name}), as kube-proxy does: each connection goes to the next ready endpoint address
 * (round robin) on the slice port of the same name (or the slice's only port), so a slice the operator writes itself
 * (an egress ProxyGroup's ClusterIP Service, whose slice lists the replica pods that route it) is followed as it
 * changes. With no ready endpoint the connection is refused. ({@code default/kubernetes} is the pod runner's.) Pods the test's own processes stand for have no
 * endpoints: their backends are registered explicitly.
 */
public final class ServiceProxy implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ServiceProxy.class);

  private record Key(String namespace, String name) {
    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  private record PortKey(Key service, int port) {
  }

  /** The API server's own Service: the pod runner relays it (its endpoints are the API server's, not a pod's). */
  private static final Key KUBERNETES = new Key("default", "kubernetes");

  private final PodNetwork network;
  private final SharedIndexInformer<Service> informer;
  private final Map<Key, Service> services = new HashMap<>();
  private final Map<Key, String> addresses = new HashMap<>();
  private final Map<PortKey, InetSocketAddress> backends = new HashMap<>();
  private final Map<PortKey, TcpRelay> relays = new HashMap<>();
  /** EndpointSlices by the Service they belong to, then by the slice's name. */
  private final Map<Key, Map<String, EndpointSlice>> slices = new HashMap<>();
  private final SharedIndexInformer<EndpointSlice> sliceInformer;
  private int roundRobin;
  private boolean closed;

  private ServiceProxy(KubernetesClient client, PodNetwork network) {
    this.network = network;
    this.informer = client.services().inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Service svc) {
        update(svc);
      }

      @Override
      public void onUpdate(Service oldSvc, Service svc) {
        update(svc);
      }

      @Override
      public void onDelete(Service svc, boolean deletedFinalStateUnknown) {
        remove(key(svc));
      }
    }, 60_000L);
    this.sliceInformer = client.discovery().v1().endpointSlices().inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(EndpointSlice eps) {
        slice(eps, false);
      }

      @Override
      public void onUpdate(EndpointSlice oldEps, EndpointSlice eps) {
        slice(eps, false);
      }

      @Override
      public void onDelete(EndpointSlice eps, boolean deletedFinalStateUnknown) {
        slice(eps, true);
      }
    }, 60_000L);
  }

  private synchronized void slice(EndpointSlice eps, boolean gone) {
    String svc = eps.getMetadata().getLabels() == null ? null
        : eps.getMetadata().getLabels().get("kubernetes.io/service-name");
    if (svc == null) {
      return;
    }
    Key k = new Key(eps.getMetadata().getNamespace(), svc);
    Map<String, EndpointSlice> of = slices.computeIfAbsent(k, x -> new HashMap<>());
    if (gone) {
      of.remove(eps.getMetadata().getName());
    } else {
      of.put(eps.getMetadata().getName(), eps);
    }
    if (of.isEmpty()) {
      slices.remove(k);
    }
    sync(k);
  }

  /**
   * The ready endpoints of a Service port from its EndpointSlices (kube-proxy's view): {@code <address>:<slice port>}
   * of each endpoint not marked not-ready, for the slice port named as the Service port (or the slice's only port).
   */
  private List<InetSocketAddress> endpoints(Key k, int port) {
    Service svc = services.get(k);
    Map<String, EndpointSlice> of = slices.get(k);
    if (KUBERNETES.equals(k) || svc == null || of == null || svc.getSpec().getPorts() == null) {
      return List.of();
    }
    ServicePort sp = svc.getSpec().getPorts().stream().filter(p -> p.getPort() != null && p.getPort() == port)
        .findFirst().orElse(null);
    if (sp == null) {
      return List.of();
    }
    List<InetSocketAddress> out = new ArrayList<>();
    List<String> names = new ArrayList<>(of.keySet());
    java.util.Collections.sort(names);
    for (String n : names) {
      EndpointSlice eps = of.get(n);
      if (eps.getPorts() == null || eps.getEndpoints() == null) {
        continue;
      }
      Integer target = null;
      for (EndpointPort ep : eps.getPorts()) {
        if (Objects.equals(ep.getName() == null ? "" : ep.getName(), sp.getName() == null ? "" : sp.getName())
            || eps.getPorts().size() == 1) {
          target = ep.getPort();
          break;
        }
      }
      if (target == null) {
        continue;
      }
      for (Endpoint e : eps.getEndpoints()) {
        if (e.getConditions() != null && Boolean.FALSE.equals(e.getConditions().getReady())) {
          continue;
        }
        for (String a : e.getAddresses() == null ? List.<String>of() : e.getAddresses()) {
          out.add(new InetSocketAddress(a, target));
        }
      }
    }
    return out;
  }

  /** Watches Services and serves their cluster IPs on {@code network}'s bridge. */
  public static ServiceProxy start(KubernetesClient client, PodNetwork network) {
    return new ServiceProxy(Objects.requireNonNull(client, "client"), Objects.requireNonNull(network, "network"));
  }

  private static Key key(Service svc) {
    return new Key(svc.getMetadata().getNamespace(), svc.getMetadata().getName());
  }

  /**
   * Sends connections to {@code <cluster IP of namespace/name>:<port>} to {@code target}. May be called before the
   * Service exists; takes effect when it does (see {@link #awaitServing}). Replaces an earlier backend of that port.
   */
  public synchronized void backend(String namespace, String name, int port, InetSocketAddress target) {
    PortKey pk = new PortKey(new Key(namespace, name), port);
    backends.put(pk, Objects.requireNonNull(target, "target"));
    sync(pk.service);
  }

  /** Removes every backend of a Service (its cluster IP stays, connections are refused). */
  public synchronized void removeBackends(String namespace, String name) {
    Key k = new Key(namespace, name);
    backends.keySet().removeIf(pk -> pk.service.equals(k));
    sync(k);
  }

  /**
   * Where connections to port {@code port} of the Service go now when it has no registered backend: the ready
   * endpoints of its EndpointSlices as this proxy last saw them (see the class comment).
   */
  public synchronized List<InetSocketAddress> endpoints(String namespace, String name, int port) {
    return List.copyOf(endpoints(new Key(namespace, name), port));
  }

  /** The cluster IP of a Service this proxy serves, once it is served. */
  public synchronized Optional<String> clusterIp(String namespace, String name) {
    return Optional.ofNullable(addresses.get(new Key(namespace, name)));
  }

  /**
   * Waits until {@code <cluster IP>:<port>} of the Service is relayed to its backend and returns that address (the
   * cluster IP and the Service port).
   *
   * @throws IllegalStateException on timeout, saying what is missing
   */
  public InetSocketAddress awaitServing(String namespace, String name, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    PortKey pk = new PortKey(new Key(namespace, name), port);
    while (true) {
      synchronized (this) {
        TcpRelay r = relays.get(pk);
        if (r != null) {
          return new InetSocketAddress(addresses.get(pk.service), port);
        }
        if (System.nanoTime() > deadline) {
          Service svc = services.get(pk.service);
          throw new IllegalStateException("Service " + pk.service + " port " + port + " is not served after "
              + timeout + ": " + (svc == null ? "no such Service" : "cluster IP "
              + svc.getSpec().getClusterIP() + (network.isServiceAddress(svc.getSpec().getClusterIP()) ? ""
              : " is outside " + network.serviceCidr())) + (backends.containsKey(pk) ? "" : ", no backend"));
        }
      }
      Host.sleep(100);
    }
  }

  private synchronized void update(Service svc) {
    Key k = key(svc);
    services.put(k, svc);
    sync(k);
  }

  private synchronized void remove(Key k) {
    services.remove(k);
    sync(k);
  }

  /** Makes the bridge address and the relays of one Service match the Service and its backends. */
  private void sync(Key k) {
    if (closed) {
      return;
    }
    Service svc = services.get(k);
    String ip = svc == null || svc.getSpec() == null ? null : svc.getSpec().getClusterIP();
    boolean served = ip != null && network.isServiceAddress(ip);
    String had = addresses.get(k);
    if (had != null && !had.equals(served ? ip : null)) {
      closeRelays(k, Set.of());
      if (!network.routesServices()) {
        network.removeServiceAddress(had);
      }
      addresses.remove(k);
      log.info("cluster IP {} of Service {} removed", had, k);
    }
    if (!served) {
      return;
    }
    if (!ip.equals(addresses.get(k))) {
      if (!network.routesServices()) {
        try {
          network.addServiceAddress(ip);
        } catch (RuntimeException e) {
          log.warn("cannot add cluster IP {} of Service {}: {}", ip, k, e.getMessage());
          return;
        }
      }
      addresses.put(k, ip);
      log.debug("cluster IP {} of Service {} served on {}", ip, k, network.bridge());
    }
    Set<Integer> tcpPorts = new HashSet<>();
    if (svc.getSpec().getPorts() != null) {
      for (ServicePort p : svc.getSpec().getPorts()) {
        if (p.getPort() != null && (p.getProtocol() == null || "TCP".equals(p.getProtocol()))) {
          tcpPorts.add(p.getPort());
        }
      }
    }
    Set<Integer> wanted = new HashSet<>();
    for (Map.Entry<PortKey, InetSocketAddress> b : backends.entrySet()) {
      if (b.getKey().service.equals(k) && tcpPorts.contains(b.getKey().port)) {
        wanted.add(b.getKey().port);
      }
    }
    for (int port : tcpPorts) {
      if (!endpoints(k, port).isEmpty()) {
        wanted.add(port);
      }
    }
    closeRelays(k, wanted);
    for (int port : wanted) {
      PortKey pk = new PortKey(k, port);
      if (relays.containsKey(pk)) {
        continue;
      }
      TcpRelay relay = null;
      try {
        boolean routed = network.routesServices();
        relay = TcpRelay.start("svc " + k + ":" + port, routed ? new InetSocketAddress(network.hostAddress(), 0)
            : new InetSocketAddress(ip, port), () -> currentBackend(pk));
        if (routed) {
          network.mapServicePort(ip, port, relay.address());
        }
        relays.put(pk, relay);
        log.info("Service {} {}:{} -> {}{}", k, ip, port, backends.containsKey(pk) ? backends.get(pk)
            : "endpoints " + endpoints(k, port), routed ? " (relay " + relay.address()
            + ")" : "");
      } catch (RuntimeException e) {
        if (relay != null) {
          relay.close();
        }
        log.warn("cannot serve Service {} on {}:{}: {}", k, ip, port, e.getMessage());
      }
    }
  }

  /** The registered backend of a port, else the next ready endpoint of the Service's EndpointSlices (or null). */
  private synchronized InetSocketAddress currentBackend(PortKey pk) {
    InetSocketAddress b = backends.get(pk);
    if (b != null) {
      return b;
    }
    List<InetSocketAddress> eps = endpoints(pk.service, pk.port);
    return eps.isEmpty() ? null : eps.get(Math.floorMod(roundRobin++, eps.size()));
  }

  private void closeRelays(Key k, Set<Integer> keep) {
    List<PortKey> gone = new ArrayList<>();
    for (PortKey pk : relays.keySet()) {
      if (pk.service.equals(k) && !keep.contains(pk.port)) {
        gone.add(pk);
      }
    }
    String ip = addresses.get(k);
    for (PortKey pk : gone) {
      if (ip != null && network.routesServices()) {
        network.unmapServicePort(ip, pk.port);
      }
      relays.remove(pk).close();
    }
  }

  /** Stops watching, closes every relay and removes every cluster IP from the bridge. */
  @Override
  public void close() {
    informer.close();
    sliceInformer.close();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      relays.forEach((pk, r) -> {
        String ip = addresses.get(pk.service);
        if (ip != null && network.routesServices()) {
          network.unmapServicePort(ip, pk.port);
        }
        r.close();
      });
      relays.clear();
      if (!network.routesServices()) {
        addresses.values().forEach(network::removeServiceAddress);
      }
      addresses.clear();
    }
  }
}
