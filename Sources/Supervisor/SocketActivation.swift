// systemd socket activation (sd_listen_fds): with tessera.socket, systemd
// opens the main port and hands the listening sockets to the supervisor as
// descriptors 3, 4, ... announced by LISTEN_PID and LISTEN_FDS.

import Glibc

public enum SocketActivation {
    /// The listening sockets systemd passed to this process (empty when none).
    public static func listeners() -> [Int32] {
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), pid_t(pidText) == getpid(),
              let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int32(countText),
              count > 0 else { return [] }
        // Ours now: the shards must not see the variables (their pid differs anyway).
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        return (0..<count).map { 3 + $0 }
    }
}
