package io.tailops.operator.ha;

import io.tailops.operator.status.Problem;
import java.util.List;

/** What an HA parent (an Ingress or Service naming a ProxyGroup) asks for, decided without any API call. */
public sealed interface HaPlan<W> {

  /** The parent is not served through a ProxyGroup (anything it had is removed). */
  record NotWanted<W>(String why) implements HaPlan<W> {
  }

  /**
   * The parent names a ProxyGroup but cannot be served as it is.
   *
   * @param reason the condition reason (Services) and event reason
   * @param message what is wrong and what to do
   */
  record Invalid<W>(String proxyGroup, String reason, String message) implements HaPlan<W> {
  }

  /**
   * The parent is served through {@code proxyGroup} as the Tailscale Service {@code svc:<hostname>}.
   *
   * @param notes what to tell the user while it holds (a Funnel that cannot be honoured, ignored rules)
   * @param wanted the kind's own part (serve config or cluster IPs)
   */
  record Wanted<W>(String proxyGroup, String hostname, List<String> tags, List<Problem> notes, W wanted)
      implements HaPlan<W> {
    public Wanted {
      tags = List.copyOf(tags);
      notes = List.copyOf(notes);
    }

    /** {@code svc:<hostname>}. */
    public String serviceName() {
      return "svc:" + hostname;
    }
  }
}
