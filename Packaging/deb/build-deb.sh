#!/usr/bin/env bash
# Builds the Debian package tessera_<version>-<revision>_<arch>.deb from this tree.
#
#   Packaging/deb/build-deb.sh [--out DIR] [--no-lintian]
#
# - release build with the Swift runtime and Foundation linked statically
#   (-static-stdlib), in its own scratch directory (.build-deb) so it does not
#   flip the flags of the development build in .build; the binaries then need
#   only Debian's libc6, libjemalloc2, libsystemd0 (computed by dpkg-shlibdeps).
# - tessera-ctl is packaged too when Package.swift has that product.
# - dpkg-deb --root-owner-group (no fakeroot needed), then lintian --fail-on error.
# Environment: TESSERA_DEB_REVISION (default 1), TESSERA_VERSION (default: the
# server's own version string), SWIFT_BUILD_JOBS (passed as -j).
# Prints the path of the .deb on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.build-deb/dist
LINTIAN=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        --no-lintian) LINTIAN=0; shift ;;
        *) echo "usage: $0 [--out DIR] [--no-lintian]" >&2; exit 2 ;;
    esac
done

for tool in dpkg-deb dpkg-shlibdeps swift; do
    command -v $tool >/dev/null || { echo "build-deb.sh: $tool is missing (Packaging/dev/install-deps.sh installs it)" >&2; exit 1; }
done

VERSION=${TESSERA_VERSION:-$(sed -n 's/.*static let tesseraVersion = "\(.*\)".*/\1/p' Sources/Engine/Commands/ConnectionCommands.swift)}
[ -n "$VERSION" ] || { echo "build-deb.sh: cannot find the Tessera version" >&2; exit 1; }
REVISION=${TESSERA_DEB_REVISION:-1}
ARCH=$(dpkg --print-architecture)
PKG=tessera
DEB=$OUT/${PKG}_${VERSION}-${REVISION}_${ARCH}.deb

PRODUCTS=(tessera-server)
if grep -Eq '\.executable\(\s*name:\s*"tessera-ctl"' Package.swift; then
    PRODUCTS+=(tessera-ctl)
fi

echo "== build-deb: swift build -c release -static-stdlib (${PRODUCTS[*]}) =="
SCRATCH=$ROOT/.build-deb
JOBS=()
[ -n "${SWIFT_BUILD_JOBS:-}" ] && JOBS=(-j "$SWIFT_BUILD_JOBS")
# Full RELRO and immediate binding, as Debian's hardening defaults.
LDFLAGS=(-Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
for p in "${PRODUCTS[@]}"; do
    swift build -c release --scratch-path "$SCRATCH" "${JOBS[@]}" --product "$p" \
        -Xswiftc -static-stdlib "${LDFLAGS[@]}"
done
BIN=$SCRATCH/release
# Our plugins (bloom in C, cell in Swift with its runtime linked in).
echo "== build-deb: plugins (Plugins/Makefile) =="
make -C Plugins BUILD="$SCRATCH/plugins" CFLAGS="-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro -Wl,-z,now"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/tessera-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root
install -d -m 0755 "$R/DEBIAN" "$R/usr/bin" "$R/etc/tessera" \
    "$R/lib/systemd/system" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d" \
    "$R/usr/share/doc/$PKG" "$R/usr/share/man/man1" "$R/usr/share/lintian/overrides"

for p in "${PRODUCTS[@]}"; do
    install -m 0755 "$BIN/$p" "$R/usr/bin/$p"
    # As dh_strip: debugging symbols out, dynamic symbols kept.
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$R/usr/bin/$p"
    if ldd "$R/usr/bin/$p" | grep -q 'libswift\|libFoundation\|lib_Foundation'; then
        echo "build-deb.sh: $p still links the Swift runtime dynamically:" >&2
        ldd "$R/usr/bin/$p" >&2
        exit 1
    fi
    sed "s/@VERSION@/$VERSION/" "Packaging/man/$p.1" | gzip -9n > "$R/usr/share/man/man1/$p.1.gz"
    chmod 0644 "$R/usr/share/man/man1/$p.1.gz"
done

install -d -m 0755 "$R/usr/lib/tessera/plugins"
for so in bloom.so cell.so; do
    install -m 0644 "$SCRATCH/plugins/$so" "$R/usr/lib/tessera/plugins/$so"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$R/usr/lib/tessera/plugins/$so"
done

# The bundled config, with the control socket of tessera-ctl in the service's
# RuntimeDirectory (group tessera may use it: 0660).
sed -e 's|^control-socket ""$|control-socket /run/tessera/tessera.sock|' Config/tessera.conf \
    > "$R/etc/tessera/tessera.conf"
chmod 0644 "$R/etc/tessera/tessera.conf"
grep -q '^control-socket /run/tessera/tessera.sock$' "$R/etc/tessera/tessera.conf" \
    || { echo "build-deb.sh: could not set control-socket in the packaged config" >&2; exit 1; }
grep -q '^dir /var/lib/tessera$' "$R/etc/tessera/tessera.conf" && grep -q '^logfile ""$' "$R/etc/tessera/tessera.conf" \
    || { echo "build-deb.sh: Config/tessera.conf must say dir /var/lib/tessera and logfile \"\"" >&2; exit 1; }
install -m 0644 Packaging/systemd/tessera.service "$R/lib/systemd/system/tessera.service"
install -m 0644 Packaging/systemd/tessera.socket "$R/lib/systemd/system/tessera.socket"
install -m 0644 Packaging/systemd/tessera.sysusers "$R/usr/lib/sysusers.d/tessera.conf"
install -m 0644 Packaging/systemd/tessera.tmpfiles "$R/usr/lib/tmpfiles.d/tessera.conf"
install -m 0644 Packaging/deb/copyright "$R/usr/share/doc/$PKG/copyright"
gzip -9n < Packaging/deb/changelog > "$R/usr/share/doc/$PKG/changelog.Debian.gz"
chmod 0644 "$R/usr/share/doc/$PKG/changelog.Debian.gz"
install -m 0644 Packaging/deb/lintian-overrides "$R/usr/share/lintian/overrides/$PKG"

for s in postinst prerm postrm; do
    install -m 0755 "Packaging/deb/$s" "$R/DEBIAN/$s"
done
echo /etc/tessera/tessera.conf > "$R/DEBIAN/conffiles"
chmod 0644 "$R/DEBIAN/conffiles"

# Depends from the ELF dependencies of the binaries (dpkg-shlibdeps wants a
# debian/control in the current directory).
mkdir -p "$STAGE/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" > "$STAGE/src/debian/control"
SHLIBS=$(cd "$STAGE/src" && dpkg-shlibdeps -O "${PRODUCTS[@]/#/$R/usr/bin/}" "$R"/usr/lib/tessera/plugins/*.so | sed -n 's/^shlibs:Depends=//p')
[ -n "$SHLIBS" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# adduser: the postinst falls back to it where systemd-sysusers is absent;
# procps: /bin/kill for ExecReload.
DEPENDS="$SHLIBS, adduser, procps"
SIZE=$(du -k -s --exclude=DEBIAN "$R" | cut -f1)

cat > "$R/DEBIAN/control" <<CONTROL
Package: $PKG
Version: $VERSION-$REVISION
Architecture: $ARCH
Maintainer: Tessera maintainers <maintainers@users.noreply.r-seed-451dea96.example>
Installed-Size: $SIZE
Depends: $DEPENDS
Section: database
Priority: optional
Description: Redis 7.0 compatible in-memory data store
 Tessera is an in-memory key-value store written in Swift that speaks the
 wire protocol (RESP2 and RESP3) and command semantics of Redis 7.0, so
 redis-cli, redis-py, hiredis and other Redis clients work unchanged.
 It persists data with RDB snapshots and an append-only file in Redis 7.0's
 byte formats, so data files move between Tessera and redis-server.
 .
 This package runs it as the systemd service tessera.service (Type=notify,
 watchdog, reload on SIGHUP, hardened sandbox) with its data in
 /var/lib/tessera and its configuration in /etc/tessera/tessera.conf.
CONTROL
chmod 0644 "$R/DEBIAN/control"

(cd "$R" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$R/DEBIAN/md5sums"

mkdir -p "$OUT"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$R" "$DEB" >/dev/null
echo "== build-deb: $(du -h "$DEB" | cut -f1) $DEB =="
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'

if [ "$LINTIAN" = 1 ]; then
    if command -v lintian >/dev/null; then
        echo "== build-deb: lintian =="
        lintian --fail-on error --display-info --tag-display-limit 0 "$DEB"
    else
        echo "build-deb.sh: lintian is not installed (apt-get install lintian), not checked" >&2
        exit 1
    fi
fi
echo "$DEB"
