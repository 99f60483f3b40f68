// client-output-buffer-limit, the one place it is enforced: the shard
// runtime asks before writing a client's output and while a pipeline builds
// a big reply; Pub/Sub asks after each message it queues.

extension ShardEngine {
    /// Redis's checkClientOutputBufferLimits: whether `c`'s pending output is
    /// over its class's hard limit, or over the soft limit for longer than the
    /// soft limit's seconds (the clock starts when it first goes over, and
    /// stops when it drops below).
    public func outputLimitReached(_ c: Client) -> Bool {
        // A link from another shard carries many clients' replies: the limit
        // applies to each client where its reply ends up, not to the link.
        if c.routing == .internalLink { return false }
        let limit = config.outputBufferLimits[c.clientClass.rawValue]
        if limit.hard == 0 && limit.soft == 0 { return false }
        let used = Int64(c.reply.out.readableBytes)
        if limit.hard > 0 && used >= limit.hard { return true }
        if limit.soft > 0 && used >= limit.soft {
            if c.obufSoftLimitSince == 0 { c.obufSoftLimitSince = now; return false }
            return (now - c.obufSoftLimitSince) / 1000 > limit.seconds
        }
        c.obufSoftLimitSince = 0
        return false
    }

    /// Closes a client that went over its output limit as soon as possible
    /// (its pending output is dropped), logging and counting it as Redis does.
    public func closeForOutputLimit(_ c: Client) {
        logger.warning("Client id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(c.displayName) obl=\(c.reply.out.readableBytes) scheduled to be closed ASAP for overcoming of output buffer limits.")
        stats.outputBufferLimitDisconnections += 1
        closeClientAsap(c)
    }
}
