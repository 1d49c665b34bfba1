package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.List;

/**
 * The desired objects of one Recorder (the auth-key Secrets aside: they are created once, with a freshly minted key).
 *
 * @param stateSecrets one empty state Secret per replica, {@code <name>-<i>}: pre-created so that the Recorder owns
 *     it; tsrecorder writes its tailscaled state into it
 */
public record RecorderObjects(StatefulSet statefulSet, ServiceAccount serviceAccount, Role role,
    RoleBinding roleBinding, List<Secret> stateSecrets) {
}
