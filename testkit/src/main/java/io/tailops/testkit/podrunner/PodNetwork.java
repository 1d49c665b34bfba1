package io.tailops.testkit.podrunner;

import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "node network" of a local pod runner: a Linux bridge in the root network namespace with a run-specific /24 of
 * pod addresses, one network namespace per kernel-mode pod (a veth pair, the pod side called {@code eth0}, a route to
 * the Service range), local addresses on the bridge for the node itself and for userspace pods, and a <i>service
 * router</i> namespace that plays kube-proxy for Service cluster IPs (see {@link ServiceProxy}). Needs root
 * ({@code ip} from iproute2, CAP_NET_ADMIN and CAP_SYS_ADMIN) and, for the service router, {@code nft}.
 *
 * <h2>Layout (run slot {@code n}, 0–199)</h2>
 * <pre>
 *   root namespace                                     pod namespace tsop&lt;n&gt;-&lt;k&gt;
 *   bridge tsop&lt;n&gt;br  10.244.n.1/24  (node address)      eth0 10.244.n.x/24, default via 10.244.n.2
 *     + 10.244.n.y/32 per userspace pod (POD_IP)          tailscale0 (tailscaled, kernel mode)
 *     10.96.n.0/24 via 10.244.n.2                        ts-* and DNAT rules (containerboot, nftables/iptables)
 *     port tsop&lt;n&gt;v&lt;k&gt;  &lt;-- veth --&gt;  eth0
 *
 *   service router namespace tsop&lt;n&gt;-0: eth0 10.244.n.2/24 (port tsop&lt;n&gt;v0), IP forwarding on, nftables:
 *     &lt;cluster IP&gt;:&lt;port&gt; DNAT to 10.244.n.1:&lt;relay port&gt; (a map), masquerade towards 10.244.n.1;
 *     no route beyond 10.244.n.0/24, so what pods send elsewhere ends there
 * </pre>
 * <ul>
 *   <li>A connection to a Service cluster IP, from the root namespace or a pod, is routed to the service router,
 *       which sends it to the relay of that Service port ({@link ServiceProxy}): a socket on the node address with a
 *       port the kernel picked. So no fixed port is bound on this machine (a Service port 8080 works while another
 *       program listens on *:8080), and the root namespace still needs no IP forwarding and no netfilter rule: the
 *       forwarding and the NAT happen in the router's own namespace. Without {@code nft} (or network namespaces),
 *       cluster IPs are local addresses on the bridge instead and each relay listens on {@code <cluster IP>:<port>}
 *       ({@link #routesServices()} is false then).</li>
 *   <li>Everything else a pod talks to lives on the bridge as a <i>local</i> address of the root namespace: headscale
 *       (listening on the node address), other pods (same L2 segment). Nothing here changes host-wide settings, and a
 *       packet from a pod to any other address has no route in the pod's namespace (and would be dropped by the root
 *       namespace, whose IP forwarding stays as it is, off by default), so no traffic leaves the machine.</li>
 *   <li>The Service range is per run ({@code 10.96.n.0/24}, give it to the API server as
 *       {@code --service-cluster-ip-range}, see {@link #serviceCidr()}), so that two runs on one machine never share
 *       a cluster IP.</li>
 * </ul>
 *
 * <h2>Cleanup</h2>
 * Every name carries the run's slot ({@code tsop<n>br}, {@code tsop<n>v<k>}, {@code tsop<n>-<k>}); the slot is held
 * by an exclusive lock on {@code /run/tsop-podnet/slot-<n>.lock} for as long as this JVM lives (the kernel releases
 * it when the JVM dies, SIGKILL included). {@link #close()} (also run by a shutdown hook) ends the processes still in
 * the pod namespaces, deletes the namespaces (which deletes their veths) and the bridge (which deletes every address
 * on it). {@link #create()} first removes the leftovers of every slot whose lock is free, i.e. of runs that died
 * without cleaning up.
 */
public final class PodNetwork implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PodNetwork.class);

  /** Where the slot locks live (tmpfs: cleared at reboot, like the network state they guard). */
  public static final Path LOCK_DIR = Path.of("/run/tsop-podnet");
  static final int SLOTS = 200;
  private static final Pattern OUR_LINK = Pattern.compile("^tsop(\\d{1,3})(br|v\\d+)$");
  private static final Pattern OUR_NETNS = Pattern.compile("^tsop(\\d{1,3})-\\d+$");

  private static final Set<Integer> SLOTS_IN_THIS_JVM = Collections.synchronizedSet(new TreeSet<>());
  private static final Set<PodNetwork> OPEN = Collections.synchronizedSet(new LinkedHashSet<>());
  private static volatile Support support;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<PodNetwork> all;
      synchronized (OPEN) {
        all = new ArrayList<>(OPEN);
      }
      // Owners usually close their network in their own shutdown hook (after stopping the pods in it, gracefully);
      // give them a moment before removing what is left.
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      for (PodNetwork n : all) {
        try {
          n.closedLatch.await(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        n.close();
      }
    }, "tsop-podnet-shutdown"));
  }

  private final int slot;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final BitSet usedHosts = new BitSet(256);
  private final Map<String, Sandbox> sandboxes = new LinkedHashMap<>();
  private final Set<String> localAddresses = new LinkedHashSet<>();
  /** Whether the service router namespace runs (see the class comment). */
  private boolean serviceRouter;
  private int nextSandbox = 1;
  private boolean closed;
  private final java.util.concurrent.CountDownLatch closedLatch = new java.util.concurrent.CountDownLatch(1);

  private PodNetwork(int slot, FileChannel lockChannel, FileLock lock) {
    this.slot = slot;
    this.lockChannel = lockChannel;
    this.lock = lock;
    usedHosts.set(0);
    usedHosts.set(1); // the node address
    usedHosts.set(2); // the service router
    usedHosts.set(255);
  }

  // ------------------------------------------------------------------------------------------------ support

  /**
   * What this machine offers, found by trying (once per JVM): root, {@code ip}, a bridge, a network namespace with a
   * veth into it, {@code /dev/net/tun}, and a netfilter backend for containerboot (nf_tables in the kernel, used over
   * netlink, or an {@code iptables} binary).
   *
   * @param bridge a bridge with local addresses can be made: userspace pods, cluster IPs and the API server relay
   *     work
   * @param kernelMode kernel-mode pods (their own namespace, TUN, netfilter) can run
   * @param reason why something is missing (empty when everything is there)
   * @param iptables whether an {@code iptables} binary is installed ({@code TS_DEBUG_FIREWALL_MODE=iptables})
   * @param nftables whether the kernel has nf_tables with NAT ({@code nftables}, and {@code auto} without iptables)
   */
  public record Support(boolean bridge, boolean kernelMode, boolean iptables, boolean nftables, String reason) {
    @Override
    public String toString() {
      return "bridge " + bridge + ", kernel-mode pods " + kernelMode + ", iptables binary " + iptables
          + ", nf_tables " + nftables + (reason.isEmpty() ? "" : " (" + reason + ")");
    }
  }

  /** See {@link Support}; the answer is cached. */
  public static Support probe() {
    Support s = support;
    if (s == null) {
      synchronized (PodNetwork.class) {
        if (support == null) {
          support = doProbe();
          log.info("pod network support: {}", support);
        }
        s = support;
      }
    }
    return s;
  }

  private static Support doProbe() {
    boolean iptables = Host.onPath("iptables");
    boolean nftables = kernelHasNfTablesNat();
    if (!OneShotCommand.isRoot()) {
      return new Support(false, false, iptables, nftables, "not root: bridges, network namespaces and the "
          + "containerboot mount namespace need root");
    }
    if (!Host.onPath("ip")) {
      return new Support(false, false, iptables, nftables, "no `ip` command (Debian package iproute2)");
    }
    String tag = Integer.toString(ThreadLocalRandom.current().nextInt(10_000, 99_999));
    String br = "tsopprb" + tag;
    String ns = "tsopprobe-" + tag;
    String veth = "tsopprv" + tag;
    List<String> missing = new ArrayList<>();
    boolean bridge;
    boolean kernel = false;
    try {
      OneShotCommand.Result r = Host.run("ip", "link", "add", br, "type", "bridge");
      bridge = r.ok();
      if (!bridge) {
        missing.add("cannot create a bridge: " + r.stderr().strip());
      } else {
        OneShotCommand.Result a = Host.run("ip", "addr", "add", "10.244.254.1/32", "dev", br);
        if (!a.ok()) {
          bridge = false;
          missing.add("cannot add an address to a bridge: " + a.stderr().strip());
        }
      }
      OneShotCommand.Result n = Host.run("ip", "netns", "add", ns);
      if (!n.ok()) {
        missing.add("cannot create a network namespace: " + n.stderr().strip());
      } else {
        OneShotCommand.Result v = Host.run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        if (!v.ok()) {
          missing.add("cannot create a veth pair: " + v.stderr().strip());
        } else if (!Files.exists(Path.of("/dev/net/tun"))) {
          missing.add("no /dev/net/tun");
        } else {
          OneShotCommand.Result t = Host.run("ip", "netns", "exec", ns, "ip", "tuntap", "add", "mode", "tun", "name", "tsprobe0");
          if (!t.ok()) {
            missing.add("cannot create a TUN device in a network namespace: " + t.stderr().strip());
          } else if (!iptables && !nftables) {
            missing.add("no netfilter backend for containerboot: neither nf_tables NAT in the kernel nor an iptables "
                + "binary (Debian package iptables)");
          } else {
            kernel = true;
          }
        }
      }
    } finally {
      Host.run("ip", "netns", "del", ns);
      Host.run("ip", "link", "del", veth);
      Host.run("ip", "link", "del", br);
    }
    return new Support(bridge, kernel && bridge, iptables, nftables, String.join("; ", missing));
  }

  /** nf_tables with NAT, from {@code /proc/config.gz} when the kernel exposes it; otherwise assumed present. */
  private static boolean kernelHasNfTablesNat() {
    Path config = Path.of("/proc/config.gz");
    if (!Files.isReadable(config)) {
      return true;
    }
    try (InputStream in = new GZIPInputStream(Files.newInputStream(config))) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return Pattern.compile("(?m)^CONFIG_NF_TABLES=[ym]$").matcher(text).find()
          && Pattern.compile("(?m)^CONFIG_NFT_NAT=[ym]$").matcher(text).find();
    } catch (IOException e) {
      return true;
    }
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /**
   * Removes what dead runs left behind, takes a free slot and creates the bridge.
   *
   * @throws IllegalStateException if {@link #probe()} says bridges cannot be made here (with the reason)
   */
  public static PodNetwork create() {
    Support s = probe();
    if (!s.bridge()) {
      throw new IllegalStateException("no pod network on this machine: " + s.reason());
    }
    cleanLeftovers();
    try {
      Files.createDirectories(LOCK_DIR);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + LOCK_DIR, e);
    }
    for (int n = 0; n < SLOTS; n++) {
      if (SLOTS_IN_THIS_JVM.contains(n)) {
        continue;
      }
      Locked l = tryLock(n);
      if (l == null) {
        continue;
      }
      SLOTS_IN_THIS_JVM.add(n);
      PodNetwork net = new PodNetwork(n, l.channel, l.lock);
      try {
        net.cleanSlot(); // anything of a dead run in this slot that the sweep above could not see
        net.createBridge();
        net.createServiceRouter(s);
      } catch (RuntimeException e) {
        net.close();
        throw e;
      }
      OPEN.add(net);
      log.info("pod network slot {}: bridge {} {}/24, pods {}, services {}", n, net.bridge(), net.hostAddress(),
          net.podCidr(), net.serviceCidr());
      return net;
    }
    throw new IllegalStateException("all " + SLOTS + " pod network slots are in use (locks in " + LOCK_DIR + ")");
  }

  private record Locked(FileChannel channel, FileLock lock) {
  }

  private static Locked tryLock(int n) {
    FileChannel ch = null;
    try {
      ch = FileChannel.open(LOCK_DIR.resolve("slot-" + n + ".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE);
      FileLock l = ch.tryLock();
      if (l == null) {
        ch.close();
        return null;
      }
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)));
      return new Locked(ch, l);
    } catch (OverlappingFileLockException e) {
      closeQuietly(ch);
      return null;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("cannot lock pod network slot " + n + " in " + LOCK_DIR, e);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // nothing to do
      }
    }
  }

  /**
   * Removes the namespaces, veths and bridges of every slot no live process holds (runs that died without cleaning
   * up), ending the processes left in those namespaces. Safe to call any time; {@link #create()} calls it.
   *
   * @return the slots cleaned
   */
  public static List<Integer> cleanLeftovers() {
    if (!OneShotCommand.isRoot() || !Host.onPath("ip")) {
      return List.of();
    }
    Map<Integer, List<String>> found = new TreeMap<>();
    for (String link : links()) {
      Matcher m = OUR_LINK.matcher(link);
      if (m.matches()) {
        found.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(link);
      }
    }
    for (String ns : namespaces()) {
      Matcher m = OUR_NETNS.matcher(ns);
      if (m.matches()) {
        found.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(ns);
      }
    }
    List<Integer> cleaned = new ArrayList<>();
    try {
      Files.createDirectories(LOCK_DIR);
    } catch (IOException e) {
      return cleaned;
    }
    for (Map.Entry<Integer, List<String>> e : found.entrySet()) {
      int n = e.getKey();
      if (SLOTS_IN_THIS_JVM.contains(n)) {
        continue;
      }
      Locked l = tryLock(n);
      if (l == null) {
        continue; // a live run owns it
      }
      try {
        log.info("removing leftovers of a dead run in pod network slot {}: {}", n, e.getValue());
        cleanSlot(n);
        cleaned.add(n);
      } finally {
        try {
          l.lock.release();
        } catch (IOException ignored) {
          // closing releases it too
        }
        closeQuietly(l.channel);
      }
    }
    return cleaned;
  }

  private void cleanSlot() {
    cleanSlot(slot);
  }

  private static void cleanSlot(int n) {
    for (String ns : namespaces()) {
      Matcher m = OUR_NETNS.matcher(ns);
      if (m.matches() && Integer.parseInt(m.group(1)) == n) {
        deleteNamespace(ns);
      }
    }
    for (String link : links()) {
      Matcher m = OUR_LINK.matcher(link);
      if (m.matches() && Integer.parseInt(m.group(1)) == n) {
        Host.run("ip", "link", "del", link);
      }
    }
  }

  /** Ends every process in {@code ns} (SIGKILL) and deletes it; its veth goes with it. */
  private static void deleteNamespace(String ns) {
    OneShotCommand.Result pids = Host.run("ip", "netns", "pids", ns);
    if (pids.ok()) {
      for (String p : pids.stdout().split("\\s+")) {
        if (!p.isBlank()) {
          try {
            ProcessHandle.of(Long.parseLong(p.strip())).ifPresent(ProcessHandle::destroyForcibly);
          } catch (NumberFormatException ignored) {
            // not a pid
          }
        }
      }
    }
    Host.run("ip", "netns", "del", ns);
  }

  private static List<String> links() {
    OneShotCommand.Result r = Host.run("ip", "-o", "link", "show");
    List<String> out = new ArrayList<>();
    if (!r.ok()) {
      return out;
    }
    for (String line : r.stdout().split("\n")) {
      // "12: tsop3v1@if2: <BROADCAST,...>" (the peer suffix after @ is not part of the name)
      String[] parts = line.split(":\\s+", 3);
      if (parts.length >= 2) {
        String name = parts[1];
        int at = name.indexOf('@');
        out.add(at < 0 ? name.strip() : name.substring(0, at));
      }
    }
    return out;
  }

  private static List<String> namespaces() {
    OneShotCommand.Result r = Host.run("ip", "netns", "list");
    List<String> out = new ArrayList<>();
    if (!r.ok()) {
      return out;
    }
    for (String line : r.stdout().split("\n")) {
      if (!line.isBlank()) {
        out.add(line.strip().split("\\s+")[0]);
      }
    }
    return out;
  }

  private void createBridge() {
    // A fixed, locally administered MAC: otherwise the bridge takes the lowest MAC of its ports and changes it as pods
    // come and go, which stales the pods' neighbour entries for the node address.
    ip("link", "add", bridge(), "address", String.format("02:74:73:6f:70:%02x", slot), "type", "bridge");
    ip("addr", "add", hostAddress() + "/24", "dev", bridge());
    ip("link", "set", bridge(), "up");
  }

  /** The service router namespace, {@code tsop<n>-0} (pods' namespaces count from 1). */
  private String routerNamespace() {
    return "tsop" + slot + "-0";
  }

  /** Starts the service router, if this machine can (see the class comment); else cluster IPs are local addresses. */
  private void createServiceRouter(Support s) {
    if (!s.kernelMode() || !Host.onPath("nft")) {
      log.info("pod network slot {}: no service router ({}): cluster IPs are local addresses on {} and Service ports "
          + "are bound on them", slot, !s.kernelMode() ? "no network namespaces here" : "no nft command (Debian "
          + "package nftables)", bridge());
      return;
    }
    String ns = routerNamespace();
    String veth = "tsop" + slot + "v0";
    try {
      ip("netns", "add", ns);
      ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
      ip("link", "set", veth, "master", bridge(), "up");
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "addr", "add", routerAddress() + "/24", "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
      // Forwarding in its own namespace only; no ICMP redirects (it forwards back out of the interface it received
      // on, and a redirect would tell senders to skip it).
      inNamespace(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"
          + " && echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects"
          + " && echo 0 > /proc/sys/net/ipv4/conf/eth0/send_redirects");
      nft("add", "table", "ip", "tsop");
      nft("add", "map", "ip", "tsop", "services", "{", "type", "ipv4_addr", ".", "inet_service", ":", "ipv4_addr",
          ".", "inet_service", ";", "}");
      nft("add", "chain", "ip", "tsop", "prerouting", "{", "type", "nat", "hook", "prerouting", "priority",
          "dstnat", ";", "policy", "accept", ";", "}");
      nft("add", "rule", "ip", "tsop", "prerouting", "dnat", "ip", "to", "ip", "daddr", ".", "tcp", "dport", "map",
          "@services");
      nft("add", "chain", "ip", "tsop", "postrouting", "{", "type", "nat", "hook", "postrouting", "priority",
          "srcnat", ";", "policy", "accept", ";", "}");
      nft("add", "rule", "ip", "tsop", "postrouting", "ip", "daddr", hostAddress(), "masquerade");
      ip("route", "add", serviceCidr(), "via", routerAddress(), "dev", bridge());
      serviceRouter = true;
    } catch (RuntimeException e) {
      log.warn("pod network slot {}: cannot start the service router ({}): cluster IPs are local addresses on {} "
          + "instead", slot, e.getMessage(), bridge());
      deleteNamespace(ns);
      Host.run("ip", "link", "del", veth);
    }
  }

  /**
   * Whether Service cluster IPs are routed through the service router (connections to
   * {@code <cluster IP>:<port>} are sent to {@link #mapServicePort relays on the node address}); if not, they are
   * local addresses ({@link #addServiceAddress}).
   */
  public boolean routesServices() {
    return serviceRouter;
  }

  /** The service router's address ({@code 10.244.<n>.2}), the gateway of {@link #serviceCidr()}. */
  public String routerAddress() {
    return "10.244." + slot + ".2";
  }

  /**
   * Sends connections to {@code <clusterIp>:<port>}, from anywhere on this network, to {@code target} (a relay on
   * {@link #hostAddress()}). Needs {@link #routesServices()}. Replaces an earlier target of that port.
   */
  public synchronized void mapServicePort(String clusterIp, int port, java.net.InetSocketAddress target) {
    requireOpen();
    if (!serviceRouter) {
      throw new IllegalStateException("no service router on " + this);
    }
    if (!isServiceAddress(clusterIp)) {
      throw new IllegalArgumentException(clusterIp + " is not in this run's Service range " + serviceCidr());
    }
    unmapServicePort(clusterIp, port);
    nft("add", "element", "ip", "tsop", "services", "{", clusterIp, ".", Integer.toString(port), ":",
        target.getAddress().getHostAddress(), ".", Integer.toString(target.getPort()), "}");
  }

  /** Stops sending {@code <clusterIp>:<port>} anywhere (connections are refused by nothing listening: dropped). */
  public synchronized void unmapServicePort(String clusterIp, int port) {
    if (serviceRouter && !closed) {
      Host.run(nftCommand("delete", "element", "ip", "tsop", "services", "{", clusterIp, ".", Integer.toString(port),
          "}"), Map.of(), Duration.ofSeconds(30)); // absent is fine
    }
  }

  private void nft(String... args) {
    Host.run(nftCommand(args), Map.of(), Duration.ofSeconds(30)).require();
  }

  private List<String> nftCommand(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", routerNamespace(), "nft"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static void inNamespace(String ns, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(List.of(command));
    Host.run(cmd, Map.of(), Duration.ofSeconds(30)).require();
  }

  /**
   * Ends the processes still in the pod namespaces, deletes the namespaces, their veths and the bridge (with every
   * address on it), and releases the slot. Idempotent.
   */
  @Override
  public void close() {
    List<Sandbox> all;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = new ArrayList<>(sandboxes.values());
      sandboxes.clear();
    }
    OPEN.remove(this);
    for (Sandbox s : all) {
      deleteNamespace(s.netns);
    }
    cleanSlot();
    try {
      lock.release();
    } catch (IOException | RuntimeException ignored) {
      // closing the channel releases it too
    }
    closeQuietly(lockChannel);
    SLOTS_IN_THIS_JVM.remove(slot);
    closedLatch.countDown();
    log.info("pod network slot {} removed", slot);
  }

  // ------------------------------------------------------------------------------------------------ addresses

  public int slot() {
    return slot;
  }

  /** The bridge's name, {@code tsop<n>br}. */
  public String bridge() {
    return "tsop" + slot + "br";
  }

  /** The node's own address on the bridge ({@code 10.244.<n>.1}): pods' default gateway, headscale, API relay. */
  public String hostAddress() {
    return "10.244." + slot + ".1";
  }

  /** This run's pod addresses, {@code 10.244.<n>.0/24}. */
  public String podCidr() {
    return "10.244." + slot + ".0/24";
  }

  /** This run's Service range, {@code 10.96.<n>.0/24}: the API server's {@code --service-cluster-ip-range}. */
  public String serviceCidr() {
    return "10.96." + slot + ".0/24";
  }

  /** Whether {@code ip} is in {@link #serviceCidr()}. */
  public boolean isServiceAddress(String ip) {
    return ip != null && ip.startsWith("10.96." + slot + ".") && ip.chars().filter(c -> c == '.').count() == 3;
  }

  /**
   * Adds {@code ip} as a local /32 address on the bridge (a Service cluster IP, when there is no service router:
   * {@link #routesServices()}); reachable from the root namespace and from every pod. Idempotent.
   */
  public synchronized void addServiceAddress(String ip) {
    requireOpen();
    if (!isServiceAddress(ip)) {
      throw new IllegalArgumentException(ip + " is not in this run's Service range " + serviceCidr());
    }
    if (localAddresses.add(ip)) {
      OneShotCommand.Result r = Host.run("ip", "addr", "add", ip + "/32", "dev", bridge());
      if (!r.ok() && !r.stderr().contains("File exists")) {
        localAddresses.remove(ip);
        r.require();
      }
    }
  }

  /** Removes a Service address added by {@link #addServiceAddress(String)}. */
  public synchronized void removeServiceAddress(String ip) {
    if (localAddresses.remove(ip) && !closed) {
      Host.run("ip", "addr", "del", ip + "/32", "dev", bridge());
    }
  }

  /**
   * This run's stand-in for an address outside the cluster and the tailnet ("the internet" behind an exit node):
   * {@code 198.18.<n>.1} (RFC 2544's benchmarking range, never routed on the internet), added as a local /32 address on
   * the bridge, so it is an address of this machine and nothing sent to it leaves. Pods are given no route to it;
   * {@link #routeToOutside(String)} gives one of them a /32 route (more specific than any default route). Idempotent.
   */
  public synchronized String outsideAddress() {
    requireOpen();
    String ip = "198.18." + slot + ".1";
    if (localAddresses.add(ip)) {
      OneShotCommand.Result r = Host.run("ip", "addr", "add", ip + "/32", "dev", bridge());
      if (!r.ok() && !r.stderr().contains("File exists")) {
        localAddresses.remove(ip);
        r.require();
      }
    }
    return ip;
  }

  /**
   * Gives the pod in network namespace {@code netns} (one of this network's) a route to {@link #outsideAddress()}
   * through the node, as its default route would in a cluster: a /32 to the node's own address, nothing wider.
   */
  public void routeToOutside(String netns) {
    String ip = outsideAddress();
    synchronized (this) {
      if (!sandboxes.containsKey(netns)) {
        throw new IllegalArgumentException(netns + " is not a pod namespace of " + this);
      }
    }
    OneShotCommand.Result r = Host.run("ip", "-n", netns, "route", "add", ip + "/32", "via", hostAddress());
    if (!r.ok() && !r.stderr().contains("File exists")) {
      r.require();
    }
  }

  /**
   * A pod address for a pod that runs in the root namespace (userspace proxies): a free address of
   * {@link #podCidr()} added as a local /32 on the bridge. Release it with {@link #releasePodAddress(String)}.
   */
  public synchronized String podAddress() {
    requireOpen();
    String ip = allocate();
    localAddresses.add(ip);
    OneShotCommand.Result r = Host.run("ip", "addr", "add", ip + "/32", "dev", bridge());
    if (!r.ok()) {
      release(ip);
      localAddresses.remove(ip);
      r.require();
    }
    return ip;
  }

  public synchronized void releasePodAddress(String ip) {
    if (localAddresses.remove(ip) && !closed) {
      Host.run("ip", "addr", "del", ip + "/32", "dev", bridge());
    }
    release(ip);
  }

  private String allocate() {
    int h = usedHosts.nextClearBit(2);
    if (h >= 255) {
      throw new IllegalStateException("no free pod address in " + podCidr());
    }
    usedHosts.set(h);
    return "10.244." + slot + "." + h;
  }

  private void release(String ip) {
    String prefix = "10.244." + slot + ".";
    if (ip != null && ip.startsWith(prefix)) {
      int h = Integer.parseInt(ip.substring(prefix.length()));
      if (h > 1 && h < 255) {
        usedHosts.clear(h);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ sandboxes

  /**
   * A pod's own network namespace {@code tsop<n>-<k>}: loopback up, {@code eth0} (one end of a veth whose other end
   * {@code tsop<n>v<k>} is a bridge port) with a free pod address /24 and a default route via the service router,
   * which routes nothing beyond this run's addresses (without a router: only a route to {@link #serviceCidr()} via
   * {@link #hostAddress()}). A default route as in a cluster also matters to tailscaled: without one it treats every
   * network change as affecting all its connections and cuts them, and a cut first registration leaves the proxy
   * with a used auth key ("authkey already used").
   *
   * @param label who it is for (logged)
   */
  public Sandbox sandbox(String label) {
    Sandbox s;
    synchronized (this) {
      requireOpen();
      int k = nextSandbox++;
      s = new Sandbox(this, "tsop" + slot + "-" + k, "tsop" + slot + "v" + k, allocate(), label);
      sandboxes.put(s.netns, s);
    }
    try {
      ip("netns", "add", s.netns);
      ip("link", "add", s.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", s.netns);
      ip("link", "set", s.hostVeth, "master", bridge(), "up");
      ip("-n", s.netns, "link", "set", "lo", "up");
      ip("-n", s.netns, "addr", "add", s.ip + "/24", "dev", "eth0");
      ip("-n", s.netns, "link", "set", "eth0", "up");
      // Nothing a pod sends can leave the machine, even where the host forwards packets: its default route is the
      // service router, which has no route beyond this run's /24; without a router, a pod has no default route and
      // reaches only its own /24 and this run's Service range.
      if (serviceRouter) {
        ip("-n", s.netns, "route", "add", "default", "via", routerAddress());
      } else {
        ip("-n", s.netns, "route", "add", serviceCidr(), "via", hostAddress());
      }
      log.debug("network namespace {} ({}) for {}", s.netns, s.ip, label);
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private synchronized void removeSandbox(Sandbox s) {
    sandboxes.remove(s.netns);
    release(s.ip);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("pod network slot " + slot + " is closed");
    }
  }

  private static void ip(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("ip");
    cmd.addAll(List.of(args));
    Host.run(cmd, Map.of(), Duration.ofSeconds(30)).require();
  }

  @Override
  public String toString() {
    return "PodNetwork[slot " + slot + ", " + bridge() + " " + hostAddress() + "]";
  }

  /** One pod's network namespace. {@link #close()} ends what still runs in it and deletes it. */
  public static final class Sandbox implements AutoCloseable {
    private final PodNetwork network;
    private final String netns;
    private final String hostVeth;
    private final String ip;
    private final String label;
    private boolean closed;

    private Sandbox(PodNetwork network, String netns, String hostVeth, String ip, String label) {
      this.network = Objects.requireNonNull(network);
      this.netns = netns;
      this.hostVeth = hostVeth;
      this.ip = ip;
      this.label = label;
    }

    /** The namespace's name (for {@code ip netns exec}). */
    public String netns() {
      return netns;
    }

    /** The pod's address on {@code eth0}. */
    public String ip() {
      return ip;
    }

    public String hostVeth() {
      return hostVeth;
    }

    /** {@code ip netns exec <name>}: put it before a command to run that command in this namespace. */
    public List<String> execPrefix() {
      return List.of("ip", "netns", "exec", netns);
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      deleteNamespace(netns);
      Host.run("ip", "link", "del", hostVeth);
      network.removeSandbox(this);
      log.debug("network namespace {} of {} removed", netns, label);
    }

    @Override
    public String toString() {
      return netns + "(" + ip + ")";
    }
  }
}
