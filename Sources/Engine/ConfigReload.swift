// Reloading the configuration file at runtime (SIGHUP, `tessera-ctl reload`):
// the file is parsed again with the command-line overrides on top, and every
// parameter whose value changed is applied as CONFIG SET would apply it.
// Parameters that cannot change at runtime keep their value and are reported,
// so the operator knows a restart is needed for them.

public struct ConfigReloadResult {
    public var applied: [String] = []
    public var needRestart: [String] = []
    public var refused: [(String, String)] = []
}

extension ShardEngine {
    public func reloadConfig(fileText: String, file: String, overrides: String) throws -> ConfigReloadResult {
        let fresh = Config()
        try ConfigFile.apply(fileText, to: fresh, file: file)
        try ConfigFile.apply(overrides, to: fresh, file: "(command line)")
        var result = ConfigReloadResult()
        for p in fresh.params {
            guard let new = fresh.get(p.name), let old = config.get(p.name), new != old else { continue }
            if !p.mutable {
                result.needRestart.append(p.name)
                continue
            }
            do {
                try config.set(p.name, new, runtime: true)
            } catch {
                result.refused.append((p.name, "\(error)"))
                continue
            }
            ShardEngine.applyAtRuntime(self, p.name, new)
            if let why = persistence?.configChanged(p.name) {
                try? config.set(p.name, old, runtime: true)
                result.refused.append((p.name, why))
                continue
            }
            result.applied.append(p.name)
        }
        return result
    }
}
