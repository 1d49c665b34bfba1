package io.tailops.operator.apiproxy;

import io.tailops.operator.config.ApiServerProxySettings.Mode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the API server proxy does with one request, decided from the caller's tailnet identity alone (the rules of the
 * official proxy, {@code k8s-operator/api-proxy} at v1.94.2):
 *
 * <ul>
 *   <li>No identity (the device does not know the caller), no request: 500 {@code failed to authenticate caller}.</li>
 *   <li>Auth mode impersonates the caller: a user's device as the user's login name, a tagged device as its MagicDNS
 *       name; groups from {@code impersonate.groups} of every {@value PeerIdentity#CAPABILITY} grant (the legacy
 *       {@code https://} name only when the current one is absent), and for a tagged device without such groups, its
 *       tags.</li>
 *   <li>Noauth mode forwards the request as it came.</li>
 *   <li>Session recording: a grant with {@code enforceRecorder} and no recorder refuses the request (as upstream).
 *       This operator cannot record yet (no Recorder support), so where upstream would record (a {@code kubectl exec}
 *       or {@code attach} session, or any request with {@code enableEvents}) it refuses when recording is enforced and
 *       otherwise forwards the request unrecorded and says so.</li>
 * </ul>
 * Deliberate difference: a malformed capability value is refused (upstream answers an empty 200, or, for the legacy
 * name, forwards the request without impersonation, that is with the operator's own rights).
 */
public final class RequestPolicy {
  private static final Pattern SESSION = Pattern.compile("/api/v1/namespaces/[^/]+/pods/[^/]+/(exec|attach)");

  private RequestPolicy() {
  }

  /** The outcome for one request. */
  public sealed interface Decision permits Forward, Refuse {
  }

  /**
   * Forward the request.
   *
   * @param user the user to impersonate (auth mode), null in noauth mode
   * @param groups the groups to impersonate (auth mode)
   * @param recordingNotice set when the caller's grant asks for a recording this operator cannot make
   */
  public record Forward(String user, List<String> groups, String recordingNotice) implements Decision {
    public Forward {
      groups = List.copyOf(groups);
    }
  }

  /** Answer with {@code status} and {@code message} instead (nothing reaches the API server). */
  public record Refuse(int status, String reason, String message) implements Decision {
  }

  /** {@code kubectl exec} or {@code attach} (SPDY: POST, WebSocket: GET), the requests upstream records. */
  public static String sessionType(String method, String path) {
    var m = SESSION.matcher(path);
    if (!m.matches() || !("POST".equals(method) || "GET".equals(method))) {
      return null;
    }
    return m.group(1);
  }

  public static Decision decide(Mode mode, PeerIdentity who, String method, String target, String path) {
    if (who == null) {
      return new Refuse(500, "Internal Server Error", "failed to authenticate caller");
    }
    if (who.grantError() != null) {
      return new Refuse(403, "Forbidden", "forbidden: the tailnet policy grants " + who.describe() + " a malformed "
          + PeerIdentity.CAPABILITY + " capability (" + who.grantError() + "); fix the grant's \"app\" value");
    }
    String session = sessionType(method, path);
    String what = session == null ? "api request \"" + target + "\"" : "'kubectl " + session + "' session";
    boolean enforce = false;
    boolean events = false;
    List<String> addrs = new ArrayList<>();
    List<String> recorderTags = new ArrayList<>();
    for (KubernetesGrant g : who.grants()) {
      if (g.legacy()) {
        continue;
      }
      enforce |= g.enforceRecorder();
      events |= g.enableEvents();
      addrs.addAll(g.recorderAddrs());
      recorderTags.addAll(g.recorders());
    }
    if (enforce && addrs.isEmpty()) {
      return new Refuse(403, "Forbidden", "forbidden: " + what + " must be recorded, but no recorders are available.");
    }
    String notice = null;
    boolean recordedUpstream = !addrs.isEmpty() && (session != null || events);
    boolean asked = (session != null || events) && !recorderTags.isEmpty();
    if (recordedUpstream || asked) {
      String wants = "a grant asks for the " + what + " of " + who.describe() + " to be recorded"
          + (recorderTags.isEmpty() ? "" : " by " + String.join(",", recorderTags))
          + (addrs.isEmpty() ? "" : " at " + String.join(",", addrs));
      if (enforce) {
        return new Refuse(403, "Forbidden", "forbidden: " + what + " must be recorded, but this operator cannot "
            + "record sessions yet (no Recorder support): " + wants);
      }
      notice = wants + ", but no Recorder exists in this operator: forwarded without recording";
    }
    if (mode == Mode.NOAUTH) {
      return new Forward(null, List.of(), notice);
    }
    Set<String> groups = new LinkedHashSet<>();
    for (KubernetesGrant g : who.grants()) {
      groups.addAll(g.impersonateGroups());
    }
    if (!who.tagged() && who.loginName().isEmpty()) {
      return new Refuse(500, "Internal Server Error", "failed to authenticate caller");
    }
    if (who.tagged() && groups.isEmpty()) {
      groups.addAll(who.tags());
    }
    String user = who.tagged() ? who.nodeName() : who.loginName();
    for (String v : concat(user, groups)) {
      if (v.isEmpty() || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        return new Refuse(403, "Forbidden", "forbidden: " + who.describe() + " would be impersonated as \""
            + v.replaceAll("\\p{Cntrl}", "?") + "\", which is not a valid Kubernetes user or group name");
      }
    }
    return new Forward(user, new ArrayList<>(groups), notice);
  }

  private static List<String> concat(String first, Set<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all;
  }
}
