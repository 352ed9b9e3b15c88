package io.dwcp.node;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.ConfigurationException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group and mode of a unix socket file dwcpd creates. Connecting to a unix socket needs write
 * permission on its file, so the mode decides who may talk to it: QEMU run by libvirt
 * (libvirt-qemu:kvm on Debian, qemu:qemu with group kvm on RHEL) for the peer sockets, root and
 * the group of administrators for the control socket.
 */
public final class SocketPermissions {
    private static final Logger log = LoggerFactory.getLogger(SocketPermissions.class);
    private static final Pattern MODE = Pattern.compile("0?[0-7]{3}");
    private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\\$?");
    private static final PosixFilePermission[] BITS = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
    };

    private final Set<PosixFilePermission> mode;
    private final String modeText;
    private final String group;
    private final String groupKey;

    /**
     * @param mode octal, e.g. {@code 0660}
     * @param group a group name, or empty for the daemon's own group
     */
    public SocketPermissions(String mode, String group, String modeKey, String groupKey) {
        this.mode = parseMode(mode, modeKey);
        this.modeText = mode;
        this.group = checkGroup(group, groupKey);
        this.groupKey = requireNonNull(groupKey, "groupKey is null");
    }

    public static Set<PosixFilePermission> parseMode(String mode, String key) {
        if (mode == null || !MODE.matcher(mode).matches()) {
            throw ConfigurationException.invalidValue(
                    key, mode, "expected an octal file mode such as 0660 (no setuid, setgid or sticky bits)");
        }
        int bits = Integer.parseInt(mode, 8);
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        for (int bit = 0; bit < BITS.length; bit++) {
            if ((bits & (1 << bit)) != 0) {
                permissions.add(BITS[bit]);
            }
        }
        if (!permissions.contains(PosixFilePermission.OWNER_WRITE)) {
            throw ConfigurationException.invalidValue(key, mode, "the mode must let the owner (dwcpd) write");
        }
        return permissions;
    }

    public static String checkGroup(String group, String key) {
        if (group == null || (!group.isEmpty() && !GROUP.matcher(group).matches())) {
            throw ConfigurationException.invalidValue(
                    key, group, "expected a group name, or empty for dwcpd's own group");
        }
        return group;
    }

    public String group() {
        return group;
    }

    public Set<PosixFilePermission> mode() {
        return mode;
    }

    /**
     * Applies mode and group to a socket dwcpd just bound. A mode that cannot be set fails; a group
     * that does not exist or that dwcpd may not give (it must be a member) is a warning: the socket
     * keeps dwcpd's group, and the message says what to do.
     */
    public void apply(Path socket) throws IOException {
        apply(socket, mode);
    }

    /**
     * Applies the group, and the mode with search permission wherever it grants read or write, to
     * the folder of the sockets: at the destination QEMU creates its incoming socket there.
     */
    public void applyToDirectory(Path directory) throws IOException {
        Set<PosixFilePermission> folder = EnumSet.copyOf(mode);
        folder.add(PosixFilePermission.OWNER_EXECUTE);
        if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
            folder.add(PosixFilePermission.GROUP_EXECUTE);
        }
        if (mode.contains(PosixFilePermission.OTHERS_READ) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            folder.add(PosixFilePermission.OTHERS_EXECUTE);
        }
        apply(directory, folder);
    }

    private void apply(Path path, Set<PosixFilePermission> permissions) throws IOException {
        Files.setPosixFilePermissions(path, permissions);
        if (group.isEmpty()) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        try {
            GroupPrincipal principal =
                    path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
            view.setGroup(principal);
        } catch (UserPrincipalNotFoundException e) {
            log.warn(
                    "{} keeps dwcpd's group: group '{}' ({}) does not exist; set {} to the group QEMU runs with, or empty",
                    path,
                    group,
                    groupKey,
                    groupKey);
        } catch (FileSystemException e) {
            log.warn(
                    "{} keeps dwcpd's group: cannot give it group '{}' ({}): {}; add dwcpd's user to that group (usermod -a -G {} dwcp) and restart dwcpd",
                    path,
                    group,
                    groupKey,
                    e.getReason() == null ? e.toString() : e.getReason(),
                    group);
        }
    }

    @Override
    public String toString() {
        return "mode " + modeText + (group.isEmpty() ? "" : " group " + group);
    }
}
